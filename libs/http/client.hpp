#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "libs/common/result.hpp"
#include "libs/http/types.hpp"
#include "libs/observability/tracing.hpp"

namespace orderflow::http {

// Where a client sends its requests: parsed once from "http://host:port/prefix".
struct Endpoint final {
  std::string host;
  std::string port;
  std::string base_path;  // without trailing slash
  static Endpoint parse(const std::string& url);  // throws ConfigError
};

// An asynchronous HTTP/1.1 client with a keep-alive connection pool per endpoint. Every
// request has a deadline covering connect, write and read. Failures are values:
//   "timeout" (deadline passed; the request may have been processed), "connect-failed"
//   (nothing was sent), "io" (the connection broke; the request may have been processed).
// All three are retryable; callers that must not act twice send an idempotency key.
//
// Tracing: with a tracer, each send() is a CLIENT span, a child of the request's own
// `traceparent` header (or, for send_blocking, of the calling thread's trace::current()),
// and the request goes out with that span's traceparent.
class Client final {
 public:
  explicit Client(asio::io_context& ioc, std::size_t max_idle_per_endpoint = 256,
                  trace::Tracer* tracer = nullptr);

  asio::awaitable<Result<Response>> send(const Endpoint& to, Request req,
                                         std::chrono::milliseconds deadline);

  // For callers on threads that do not run the io_context (e.g. a Kafka consumer loop):
  // runs send() on the io_context and waits for it.
  Result<Response> send_blocking(const Endpoint& to, Request req, std::chrono::milliseconds deadline);

 private:
  using Stream = beast::tcp_stream;
  asio::awaitable<Result<Response>> exchange(const Endpoint& to, Request& req, std::chrono::milliseconds deadline);
  std::unique_ptr<Stream> take_idle(const std::string& key);
  void give_back(const std::string& key, std::unique_ptr<Stream> stream);

  asio::io_context& ioc_;
  std::size_t max_idle_;
  trace::Tracer* tracer_;
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Stream>>> idle_;
};

}  // namespace orderflow::http
