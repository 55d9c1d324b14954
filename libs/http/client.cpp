#include "libs/http/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>
#include <future>
#include <optional>
#include <tuple>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/url/parse.hpp>

#include "libs/common/settings.hpp"

namespace orderflow::http {
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// The endpoint when the host is an IP address (IPv6 in brackets or not) and the port a number.
std::optional<asio::ip::tcp::endpoint> literal_endpoint(const Endpoint& to) {
  std::string_view host = to.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  std::uint16_t port = 0;
  auto [end, perr] = std::from_chars(to.port.data(), to.port.data() + to.port.size(), port);
  if (ec || perr != std::errc() || end != to.port.data() + to.port.size()) return std::nullopt;
  return asio::ip::tcp::endpoint(address, port);
}

}  // namespace

Endpoint Endpoint::parse(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  if (!u || u->scheme() != "http" || u->host().empty()) {
    throw ConfigError("'" + url + "' is not an http:// URL");
  }
  Endpoint e;
  e.host = u->host();
  e.port = u->has_port() ? std::string(u->port()) : "80";
  e.base_path = u->path();
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  return e;
}

Client::Client(asio::io_context& ioc, std::size_t max_idle_per_endpoint, trace::Tracer* tracer)
    : ioc_(ioc), max_idle_(max_idle_per_endpoint), tracer_(tracer) {}

std::unique_ptr<Client::Stream> Client::take_idle(const std::string& key) {
  std::lock_guard lock(mu_);
  auto& pool = idle_[key];
  if (pool.empty()) return nullptr;
  auto s = std::move(pool.back());
  pool.pop_back();
  return s;
}

void Client::give_back(const std::string& key, std::unique_ptr<Stream> stream) {
  std::lock_guard lock(mu_);
  auto& pool = idle_[key];
  if (pool.size() < max_idle_) pool.push_back(std::move(stream));
}

asio::awaitable<Result<Response>> Client::send(const Endpoint& to, Request req,
                                               std::chrono::milliseconds deadline) {
  if (tracer_ == nullptr) co_return co_await exchange(to, req, deadline);
  auto target = std::string(req.target());
  auto path = target.substr(0, target.find('?'));
  auto span = tracer_->start(std::string(req.method_string()) + " " + path, trace::SpanKind::kClient,
                             std::string_view(req["traceparent"]));
  req.set("traceparent", span.context().traceparent());
  span.tag("http.method", std::string(req.method_string()));
  span.tag("http.path", path);
  span.tag("http.host", to.host + ":" + to.port);
  auto result = co_await exchange(to, req, deadline);
  if (result) {
    span.tag("http.status_code", std::to_string(result->result_int()));
    if (result->result_int() >= 500) span.tag("error", std::to_string(result->result_int()));
  } else {
    span.tag("error", result.error().code + ": " + result.error().message);
  }
  co_return result;
}

asio::awaitable<Result<Response>> Client::exchange(const Endpoint& to, Request& req,
                                                   std::chrono::milliseconds deadline) {
  const std::string key = to.host + ":" + to.port;
  const auto expires = std::chrono::steady_clock::now() + deadline;
  req.version(11);
  req.set(bhttp::field::host, to.host);
  req.keep_alive(true);
  req.prepare_payload();

  // A pooled connection may have been closed by the server while idle; if it fails before
  // any response byte arrives, try once more on a fresh connection.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto stream = attempt == 0 ? take_idle(key) : nullptr;
    const bool reused = stream != nullptr;
    if (!stream) {
      stream = std::make_unique<Stream>(ioc_);
      boost::system::error_code cec;
      if (auto literal = literal_endpoint(to)) {
        // An address needs no lookup: Asio resolves on a thread of its own, which a
        // service talking to 127.0.0.1 or a pod IP would start for nothing.
        stream->expires_at(expires);
        std::tie(cec) = co_await stream->async_connect(*literal, kTuple);
      } else {
        asio::ip::tcp::resolver resolver(ioc_);
        auto [rec, results] = co_await resolver.async_resolve(to.host, to.port, kTuple);
        if (rec) co_return Error{"connect-failed", "resolve " + to.host + ": " + rec.message(), true};
        stream->expires_at(expires);
        std::tie(cec, std::ignore) = co_await stream->async_connect(results, kTuple);
      }
      if (cec == beast::error::timeout) co_return Error{"timeout", "connect to " + key + " timed out", true};
      if (cec) co_return Error{"connect-failed", "connect to " + key + ": " + cec.message(), true};
      stream->socket().set_option(asio::ip::tcp::no_delay(true));
    }
    stream->expires_at(expires);
    auto [wec, wn] = co_await bhttp::async_write(*stream, req, kTuple);
    if (wec) {
      if (reused && wec != beast::error::timeout) continue;
      if (wec == beast::error::timeout) co_return Error{"timeout", "request to " + key + " timed out", true};
      co_return Error{"io", "write to " + key + ": " + wec.message(), true};
    }
    beast::flat_buffer buffer;
    Response res;
    auto [rec, rn] = co_await bhttp::async_read(*stream, buffer, res, kTuple);
    if (rec) {
      if (reused && rn == 0 && (rec == bhttp::error::end_of_stream || rec == asio::error::connection_reset ||
                                rec == asio::error::eof)) {
        continue;
      }
      if (rec == beast::error::timeout) co_return Error{"timeout", "no response from " + key + " within deadline", true};
      co_return Error{"io", "read from " + key + ": " + rec.message(), true};
    }
    if (res.keep_alive()) {
      stream->expires_never();
      give_back(key, std::move(stream));
    }
    co_return res;
  }
  co_return Error{"io", "connection to " + key + " closed", true};
}

Result<Response> Client::send_blocking(const Endpoint& to, Request req, std::chrono::milliseconds deadline) {
  // The coroutine runs on an I/O thread: hand it the caller's trace context explicitly.
  if (req["traceparent"].empty()) {
    if (const auto* current = trace::current()) req.set("traceparent", current->traceparent());
  }
  std::promise<Result<Response>> promise;
  auto fut = promise.get_future();
  asio::co_spawn(
      ioc_,
      [&, req = std::move(req)]() mutable -> asio::awaitable<void> {
        promise.set_value(co_await send(to, std::move(req), deadline));
      },
      asio::detached);
  return fut.get();
}

}  // namespace orderflow::http
