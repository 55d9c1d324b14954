#include "libs/runtime/runtime.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <malloc.h>
#include <thread>

#include "libs/common/thread_name.hpp"
#include "libs/http/response.hpp"
#include "libs/http/server.hpp"
#include "libs/observability/log.hpp"
#include "libs/runtime/openapi.hpp"

namespace orderflow::runtime {

namespace asio = boost::asio;

namespace {

// glibc gives threads that allocate at once arenas of their own, up to 8 per core, and each
// keeps what was freed in it: with a dozen threads (I/O, consumers, librdkafka's) most of a
// service's resident memory was arena slack. A few arenas hold the same data; the threads
// share their locks. Set before any thread starts (the blocking pool is next). A service
// linked with jemalloc (allocator.cpp) does not use glibc's malloc: this changes nothing there.
int limit_malloc_arenas(const Settings& settings) {
  const auto arenas = static_cast<int>(settings.integer("malloc-arenas", 2, 0, 64));
  if (arenas > 0) ::mallopt(M_ARENA_MAX, arenas);
  return arenas;
}

trace::TracerOptions make_tracer_options(const std::string& service, const Settings& settings) {
  trace::TracerOptions o;
  o.service = service;
  o.zipkin_url = settings.str("zipkin-url", "");
  if (!o.zipkin_url.empty() && !o.zipkin_url.starts_with("http://") && !o.zipkin_url.starts_with("https://")) {
    throw ConfigError("zipkin-url '" + o.zipkin_url + "' is not an http(s):// URL");
  }
  o.queue_capacity = static_cast<std::size_t>(settings.integer("tracing-queue-capacity", 4096, 1, 1'000'000));
  o.batch_size = static_cast<std::size_t>(settings.integer("tracing-batch-size", 100, 1, 10'000));
  o.flush_interval = settings.millis("tracing-flush-interval-ms", 500);
  o.timeout = settings.millis("tracing-timeout-ms", 2000);
  return o;
}

}  // namespace

Runtime::Runtime(std::string service, int argc, char** argv, std::uint16_t default_port)
    : service_(std::move(service)),
      settings_(argc, argv),
      default_port_(default_port),
      data_dir_(settings_.str("data-dir", ".run/data")),
      malloc_arenas_(limit_malloc_arenas(settings_)),
      blocking_(static_cast<std::size_t>(settings_.integer("blocking-threads", 2, 1, 256))),
      tracer_(make_tracer_options(service_, settings_), metrics_) {
  log::init(service_, log::parse_level(settings_.str("log-level", "info")));
  std::filesystem::create_directories(data_dir_);
  // Validate now so a bad port stops start-up with a clear message.
  (void)settings_.integer("http-port", default_port, 0, 65535);
  add_actuator_routes();
}

Runtime::~Runtime() {
  health_.stop();
  blocking_.join();
}

void Runtime::add_actuator_routes() {
  using http::Status;
  auto health = [this](http::RequestContext&) -> asio::awaitable<http::Response> {
    co_return http::json_response(health_.up() ? Status::ok : Status::service_unavailable, health_.report());
  };
  router_.add(http::Verb::get, "/actuator/health", health);
  router_.add(http::Verb::get, "/actuator/health/readiness", health);
  router_.add(http::Verb::get, "/actuator/health/liveness",
              [](http::RequestContext&) -> asio::awaitable<http::Response> {
                co_return http::json_response(Status::ok, {{"status", "UP"}});
              });
  auto prom = [this](http::RequestContext&) -> asio::awaitable<http::Response> {
    co_return http::text_response(Status::ok, "text/plain; version=0.0.4; charset=utf-8", metrics_.render());
  };
  router_.add(http::Verb::get, "/metrics", prom);
  router_.add(http::Verb::get, "/actuator/prometheus", prom);
  router_.add(http::Verb::get, "/actuator/info", [this](http::RequestContext&) -> asio::awaitable<http::Response> {
    co_return http::json_response(Status::ok, {{"name", service_},
                                               {"version", ORDERFLOW_VERSION},
                                               {"git", {{"commit", ORDERFLOW_GIT_COMMIT}}},
                                               {"build", {{"time", ORDERFLOW_BUILD_TIME}}}});
  });
}

void Runtime::serve_openapi(std::string_view service_document) {
  auto body = std::make_shared<const std::string>(
      boost::json::serialize(merge_openapi(common_openapi(), service_document)));
  router_.add(http::Verb::get, "/v3/api-docs", [body](http::RequestContext&) -> asio::awaitable<http::Response> {
    co_return http::text_response(http::Status::ok, "application/json", *body);
  });
}

int Runtime::run() {
  http::ServerOptions opts;
  opts.address = settings_.str("http-address", "0.0.0.0");
  opts.port = static_cast<std::uint16_t>(settings_.integer("http-port", default_port_, 0, 65535));
  opts.body_limit = static_cast<std::size_t>(settings_.integer("http-body-limit", 64 * 1024, 1024, 64 << 20));
  http::Server server(io_, opts, router_, metrics_, &tracer_);
  auto port = server.start();

  health_.check_now();
  health_.start(io_, blocking_);

  // The guard keeps io_.run() from returning when it runs out of work (the acceptor closed,
  // no request in flight) while stop actions still run: only the stopper ends the loop.
  auto guard = asio::make_work_guard(io_);
  std::thread stopper;
  asio::signal_set signals(io_, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    server.stop();
    // Stop actions may block (consumer close, producer flush): run them off the I/O threads
    // so in-flight requests can still complete, then end the I/O loop.
    stopper = std::thread([this, &guard] {
      for (auto it = stop_actions_.rbegin(); it != stop_actions_.rend(); ++it) {
        try {
          (*it)();
        } catch (const std::exception& e) {
          log::error("stop action failed", {{"error", e.what()}});
        }
      }
      guard.reset();
      io_.stop();
    });
  });

  log::info("started", {{"port", std::to_string(port)}, {"dataDir", data_dir_}});
  // One I/O thread by default: several threads on one io_context hand completions to each
  // other (a futex wake per request), which cost more CPU than the HTTP work itself; one
  // thread served the closed-loop T1 as fast as two (bench/README.md).
  auto threads = static_cast<int>(settings_.integer("io-threads", 1, 1, 64));
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([this] {
    name_this_thread("http-io");
    io_.run();
  });
  io_.run();
  for (auto& t : pool) t.join();
  if (stopper.joinable()) stopper.join();
  blocking_.join();  // no offloaded work may outlive what main() destroys next
  health_.stop();
  tracer_.stop();  // sends the spans still queued (bounded by the POST timeout)
  log::info("stopped");
  return 0;
}

int guarded_main(const char* service, const std::function<int()>& body) {
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return body();
  } catch (const ConfigError& e) {
    std::cerr << service << ": configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << service << ": failed to start: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace orderflow::runtime
