#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "libs/http/router.hpp"
#include "libs/http/types.hpp"
#include "libs/observability/metrics.hpp"
#include "libs/observability/tracing.hpp"

namespace orderflow::http {

struct ServerOptions final {
  std::string address = "0.0.0.0";
  std::uint16_t port = 0;                       // 0: pick a free port (tests)
  std::size_t body_limit = 64 * 1024;           // larger bodies get 413
  std::size_t header_limit = 16 * 1024;         // larger headers get 431
  std::chrono::milliseconds read_timeout{30'000};  // per request (also the keep-alive idle limit)
  std::chrono::milliseconds write_timeout{30'000};
};

// An asynchronous HTTP/1.1 server: one coroutine per connection on its own strand, keep-
// alive, pipelining-safe. Handlers are coroutines; an exception escaping a handler is a
// 500 problem without internals. Every response carries X-Correlation-ID and the
// traceparent of the request's SERVER span (which continues an incoming traceparent and is
// RequestContext::trace); with a tracer, that span is exported (except actuator/metrics).
class Server final {
 public:
  Server(asio::io_context& ioc, ServerOptions options, const Router& router,
         metrics::Registry& registry, trace::Tracer* tracer = nullptr);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting; returns the bound port. Throws on bind failure.
  std::uint16_t start();
  // Stops accepting new connections; connections in flight finish their current request.
  void stop();

  // The response to one parsed request: routing, the handler, problem+json for what no
  // handler takes, correlation and trace headers, metrics. What session() does with every
  // request it reads; public for the request fuzz target (tests/fuzz). `remote`: the peer's
  // address (RequestContext::remote_address).
  asio::awaitable<Response> dispatch(const Request& req, const std::string& remote = {});

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(asio::ip::tcp::socket socket);

  asio::io_context& ioc_;
  ServerOptions options_;
  const Router& router_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  metrics::Family<metrics::Histogram>& requests_;
  trace::Tracer* tracer_;
};

}  // namespace orderflow::http
