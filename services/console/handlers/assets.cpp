#include <string>

#include "console_app_js.hpp"
#include "console_chart_js.hpp"
#include "console_index_html.hpp"
#include "console_style_css.hpp"
#include "libs/http/response.hpp"
#include "services/console/handlers/api.hpp"

namespace orderflow::console::handlers {
namespace {

// Everything the page loads comes from this origin; nothing else may be fetched, framed or
// posted to (the browser enforces it, so a bug in the page cannot reach another host).
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

void serve(http::Router& router, const std::string& path, std::string_view type, std::string_view body) {
  router.add(http::Verb::get, path, [type, body](http::RequestContext&) -> http::asio::awaitable<http::Response> {
    auto res = http::text_response(http::Status::ok, type, std::string(body));
    res.set("Content-Security-Policy", kPolicy);
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.set(http::bhttp::field::cache_control, "no-cache");
    co_return res;
  });
}

}  // namespace

void add_asset_routes(http::Router& router) {
  serve(router, "/", "text/html; charset=utf-8", kIndexHtml);
  serve(router, "/app.js", "text/javascript; charset=utf-8", kAppJs);
  serve(router, "/chart.js", "text/javascript; charset=utf-8", kChartJs);
  serve(router, "/style.css", "text/css; charset=utf-8", kStyleCss);
}

}  // namespace orderflow::console::handlers
