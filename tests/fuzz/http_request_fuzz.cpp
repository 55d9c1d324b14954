// libFuzzer target: raw bytes from a client, through what the HTTP server does with them —
// Beast's request parser with the server's limits (as Server::session reads), then
// Server::dispatch (request target parsing, routing with path captures, query decoding,
// correlation id, problem+json, a throwing handler).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>

#include "libs/http/response.hpp"
#include "libs/http/server.hpp"
#include "libs/observability/log.hpp"

namespace {

using namespace orderflow;
namespace asio = boost::asio;

asio::awaitable<http::Response> order(http::RequestContext& ctx) {
  co_return http::json_response(http::Status::ok, {{"id", ctx.path_param("orderId")},
                                                   {"limit", ctx.query_param("limit").value_or("")}});
}

asio::awaitable<http::Response> place(http::RequestContext& ctx) {
  boost::system::error_code ec;
  auto v = boost::json::parse(ctx.request.body(), ec);
  if (ec) co_return http::bad_request("the body is not valid JSON: " + ec.message());
  co_return http::json_response(http::Status::accepted, v);
}

asio::awaitable<http::Response> fails(http::RequestContext&) {
  throw std::runtime_error("handler failure");
  co_return http::Response{};
}

struct Fixture {
  asio::io_context ioc;
  metrics::Registry registry;
  http::Router router;
  http::ServerOptions options;
  http::Server server{ioc, options, router, registry};

  Fixture() {
    log::init("fuzz", log::Level::kError);
    router.add(http::Verb::get, "/api/v1/orders/{orderId}", order);
    router.add(http::Verb::post, "/place-order", place);
    router.add(http::Verb::post, "/api/v1/dlq/{topic}/replay", place);
    router.add(http::Verb::delete_, "/fails", fails);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  http::bhttp::request_parser<http::bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(f.options.header_limit));
  parser.body_limit(f.options.body_limit);
  parser.eager(true);
  asio::const_buffer rest(data, size);
  boost::system::error_code ec;
  while (rest.size() > 0 && !parser.is_done()) {
    auto used = parser.put(rest, ec);
    if (ec == http::bhttp::error::need_more) ec = {};
    if (ec || used == 0) break;
    rest += used;
  }
  if (!ec && !parser.is_done() && parser.got_some()) parser.put_eof(ec);
  if (ec || !parser.is_done()) {
    (void)http::bad_request("malformed HTTP request: " + ec.message());  // what the server answers
    return 0;
  }
  http::Request req = parser.release();
  http::Response res;
  bool answered = false;
  asio::co_spawn(f.ioc, f.server.dispatch(req), [&](std::exception_ptr e, http::Response r) {
    if (e) std::rethrow_exception(e);  // dispatch never throws: a crash is a finding
    res = std::move(r);
    answered = true;
  });
  f.ioc.run();
  f.ioc.restart();
  if (!answered || res.result_int() < 200) __builtin_trap();  // every request gets an answer
  res.prepare_payload();
  return 0;
}
