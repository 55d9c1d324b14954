// libFuzzer target: raw bytes from a client, through what the HTTP server does with them
// before a handler runs: Beast's request parser with the server's limits (as
// Server::session reads), then the request-target parsing, routing with path captures and
// query decoding of Server::dispatch. (dispatch itself is a coroutine, which clang 14
// cannot compile with coverage instrumentation: "Cannot represent a difference across
// sections"; the pieces it calls are fuzzed here.)
#include <boost/url/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "libs/http/response.hpp"
#include "libs/http/router.hpp"
#include "libs/http/server.hpp"  // ServerOptions: the limits

namespace {

using namespace orderflow;

// Routing only: the handlers are never called (and are no coroutines, see above).
boost::asio::awaitable<http::Response> nothing(http::RequestContext&) { throw std::logic_error("not called"); }

const http::Router& router() {
  static const http::Router r = [] {
    http::Router out;
    out.add(http::Verb::post, "/place-order", nothing);
    out.add(http::Verb::get, "/api/v1/orders", nothing);
    out.add(http::Verb::get, "/api/v1/orders/{orderId}", nothing);
    out.add(http::Verb::get, "/api/v1/dlq/{topic}/messages", nothing);
    out.add(http::Verb::post, "/api/v1/dlq/{topic}/replay", nothing);
    out.add(http::Verb::get, "/actuator/health", nothing);
    return out;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const http::ServerOptions options;
  http::bhttp::request_parser<http::bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
  parser.body_limit(options.body_limit);
  parser.eager(true);
  boost::asio::const_buffer rest(data, size);
  boost::system::error_code ec;
  while (rest.size() > 0 && !parser.is_done()) {
    auto used = parser.put(rest, ec);
    if (ec == http::bhttp::error::need_more) ec = {};
    if (ec || used == 0) break;
    rest += used;
  }
  if (!ec && !parser.is_done() && parser.got_some()) parser.put_eof(ec);
  if (ec || !parser.is_done()) {
    // What the server answers then: a problem naming the parse error.
    (void)http::bad_request("malformed HTTP request: " + ec.message());
    return 0;
  }
  http::Request req = parser.release();
  (void)req.keep_alive();
  (void)req[http::kCorrelationHeader];
  (void)req[http::bhttp::field::expect];
  auto parsed = boost::urls::parse_origin_form(req.target());
  if (!parsed) return 0;
  auto match = router().match(req.method(), parsed->path());
  std::map<std::string, std::string> query;
  for (auto p : parsed->params()) query.emplace(p.key, p.has_value ? p.value : std::string());
  if (match.handler == nullptr && match.allow.empty() && match.route != "UNMATCHED") __builtin_trap();
  if (match.handler != nullptr && match.route == "UNMATCHED") __builtin_trap();
  if (match.handler == nullptr && !match.allow.empty()) {
    auto res = http::problem(http::Status::method_not_allowed, "method-not-allowed", "Method Not Allowed",
                             std::string(req.method_string()) + " is not supported on " + std::string(parsed->path()));
    res.prepare_payload();
  }
  return 0;
}
