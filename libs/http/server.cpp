#include "libs/http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/url/parse.hpp>

#include "libs/common/card.hpp"
#include "libs/common/ids.hpp"
#include "libs/http/response.hpp"
#include "libs/observability/log.hpp"

namespace orderflow::http {
namespace {

using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::map<std::string, std::string> decode_query(const boost::urls::url_view& url) {
  std::map<std::string, std::string> out;
  for (auto p : url.params()) out.emplace(p.key, p.has_value ? p.value : std::string());
  return out;
}

// Probes and scrapes are not worth a trace each.
bool traced_route(std::string_view route) {
  return !(route.starts_with("/actuator") || route == "/metrics");
}

// A client's id that is empty, too long, has other characters or holds a card number is
// replaced by a fresh one: it is echoed, logged and carried in every event of the request.
bool valid_correlation_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || contains_card_number(id)) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':')) return false;
  }
  return true;
}

}  // namespace

Server::Server(asio::io_context& ioc, ServerOptions options, const Router& router,
               metrics::Registry& registry, trace::Tracer* tracer)
    : ioc_(ioc),
      options_(std::move(options)),
      router_(router),
      acceptor_(ioc),
      requests_(registry.histogram("http_server_requests_seconds", "HTTP server request latency",
                                   {"method", "route", "status"})),
      tracer_(tracer) {}

std::uint16_t Server::start() {
  tcp::endpoint ep{asio::ip::make_address(options_.address), options_.port};
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(ioc_, accept_loop(), asio::detached);
  return acceptor_.local_endpoint().port();
}

void Server::stop() {
  stopping_ = true;
  asio::post(ioc_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

asio::awaitable<void> Server::accept_loop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      log::warn("accept failed", {{"error", ec.message()}});
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::session(tcp::socket socket) {
  boost::system::error_code peer_ec;
  const auto peer = socket.remote_endpoint(peer_ec);
  const std::string remote = peer_ec ? std::string() : peer.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser.body_limit(options_.body_limit);
    stream.expires_after(options_.read_timeout);

    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    std::optional<Response> early;
    if (hec) {
      if (hec == bhttp::error::end_of_stream || hec == beast::error::timeout ||
          hec == asio::error::eof || hec == asio::error::connection_reset) {
        break;
      }
      if (hec == bhttp::error::body_limit) {
        early = problem(Status::payload_too_large, "payload-too-large", "Payload Too Large",
                        "request body exceeds " + std::to_string(options_.body_limit) + " bytes");
      } else if (hec == bhttp::error::header_limit) {
        early = problem(Status::request_header_fields_too_large, "headers-too-large",
                        "Request Header Fields Too Large", "request headers exceed the limit");
      } else {
        early = bad_request("malformed HTTP request: " + hec.message());
      }
    } else {
      auto& h = parser.get();
      if (parser.content_length() && *parser.content_length() > options_.body_limit) {
        early = problem(Status::payload_too_large, "payload-too-large", "Payload Too Large",
                        "request body exceeds " + std::to_string(options_.body_limit) + " bytes");
      } else {
        if (beast::iequals(h[bhttp::field::expect], "100-continue")) {
          bhttp::response<bhttp::empty_body> cont{Status::continue_, 11};
          co_await bhttp::async_write(stream, cont, kTuple);
        }
        auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        if (bec == bhttp::error::body_limit) {
          early = problem(Status::payload_too_large, "payload-too-large", "Payload Too Large",
                          "request body exceeds " + std::to_string(options_.body_limit) + " bytes");
        } else if (bec) {
          break;
        }
      }
    }

    if (early) {
      // Answer, then close: the rest of the request is not read.
      early->keep_alive(false);
      early->prepare_payload();
      stream.expires_after(options_.write_timeout);
      co_await bhttp::async_write(stream, *early, kTuple);
      // Drain briefly so the client reads the answer rather than a reset.
      boost::system::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream.expires_after(std::chrono::seconds(2));
      std::array<char, 16 * 1024> sink;
      for (std::size_t drained = 0; drained < 4 * 1024 * 1024;) {
        auto [rec, rn] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
        if (rec) break;
        drained += rn;
      }
      co_return;
    }

    Request req = parser.release();
    Response res = co_await dispatch(req, remote);
    if (is_abort_connection(res)) {
      // SO_LINGER 0: close() sends RST, the client sees "connection reset" with no answer.
      boost::system::error_code ec;
      stream.socket().set_option(asio::socket_base::linger(true, 0), ec);
      stream.socket().close(ec);
      co_return;
    }
    bool keep_alive = req.keep_alive() && !stopping_;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    stream.expires_after(options_.write_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
    if (wec || !keep_alive) break;
  }
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<Response> Server::dispatch(const Request& req, const std::string& remote) {
  auto started = std::chrono::steady_clock::now();
  auto target = req.target();
  auto parsed = boost::urls::parse_origin_form(target);
  Response res;
  std::string route = "UNMATCHED";
  std::string correlation_id(req[kCorrelationHeader]);
  if (!valid_correlation_id(correlation_id)) correlation_id = ids::uuid();
  // The SERVER span: the route is known only after matching, so start it here and name
  // it by method and route (bounded cardinality, unlike the raw path).
  auto match = parsed ? router_.match(req.method(), parsed->path()) : Router::Match{};
  if (parsed) route = match.route;
  const bool traced = tracer_ != nullptr && traced_route(route);
  trace::Span span = traced ? tracer_->start(std::string(req.method_string()) + " " + route,
                                             trace::SpanKind::kServer, std::string_view(req["traceparent"]))
                            : trace::Span();
  const trace::Context trace_ctx = traced ? span.context() : trace::Context::continue_or_start(req["traceparent"]);
  if (!parsed) {
    res = bad_request("malformed request target");
  } else {
    if (match.handler == nullptr) {
      if (!match.allow.empty()) {
        res = problem(Status::method_not_allowed, "method-not-allowed", "Method Not Allowed",
                      std::string(req.method_string()) + " is not supported on " + std::string(parsed->path()));
        res.set(bhttp::field::allow, match.allow);
      } else {
        res = not_found("no resource at " + std::string(parsed->path()));
      }
    } else {
      RequestContext ctx{req, std::move(match.params), decode_query(*parsed), correlation_id, trace_ctx, remote};
      try {
        res = co_await (*match.handler)(ctx);
      } catch (const std::exception& e) {
        log::error("handler failed", {{"route", route}, {"error", e.what()},
                                       {"correlationId", correlation_id}, {"traceId", trace_ctx.trace_id}});
        span.tag("error", e.what());
        res = problem(Status::internal_server_error, "internal-error", "Internal Server Error",
                      "the request could not be processed");
      }
    }
  }
  res.set(kCorrelationHeader, correlation_id);
  res.set("traceparent", trace_ctx.traceparent());
  span.tag("http.method", std::string(req.method_string()));
  span.tag("http.path", parsed ? std::string(parsed->path()) : std::string(target));
  span.tag("http.route", route);
  span.tag("http.status_code", std::to_string(res.result_int()));
  span.tag("correlation.id", correlation_id);
  if (res.result_int() >= 500) span.tag("error", std::to_string(res.result_int()));
  if (req.method() == Verb::head) res.body().clear();
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  requests_.with({std::string(req.method_string()), route, std::to_string(res.result_int())}).observe(seconds);
  co_return res;
}

}  // namespace orderflow::http
