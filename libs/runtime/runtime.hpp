#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>
#include <vector>

#include "libs/common/settings.hpp"
#include "libs/http/router.hpp"
#include "libs/observability/metrics.hpp"
#include "libs/observability/tracing.hpp"
#include "libs/runtime/health.hpp"

namespace orderflow::runtime {

// What every service has in common: settings, logging, the I/O threads, a pool for
// blocking work, the metrics registry, the router with the actuator endpoints, health
// checks, and an explicit lifecycle. main() builds its service on top, registering a
// stop action for each thing it starts; run() blocks until SIGTERM/SIGINT and then stops
// the HTTP server first and everything else in reverse order of registration.
//
// Settings: --http-port, --http-address, --data-dir, --io-threads (1), --blocking-threads (2),
// --malloc-arenas (2), --log-level,
// --zipkin-url (ORDERFLOW_HTTP_PORT, ..., ORDERFLOW_ZIPKIN_URL: spans are exported there
// when set).
class Runtime final {
 public:
  Runtime(std::string service, int argc, char** argv, std::uint16_t default_port);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const std::string& service() const { return service_; }
  const Settings& settings() const { return settings_; }
  boost::asio::io_context& io() { return io_; }
  boost::asio::thread_pool& blocking_pool() { return blocking_; }
  metrics::Registry& metrics() { return metrics_; }
  // Spans for the HTTP server (every request), HTTP clients and Kafka consumer loops.
  trace::Tracer& tracer() { return tracer_; }
  http::Router& router() { return router_; }
  HealthMonitor& health() { return health_; }
  // The folder for this service's database and files (created if missing).
  std::string data_dir() const { return data_dir_; }

  void on_stop(std::function<void()> action) { stop_actions_.push_back(std::move(action)); }

  // Serves GET /v3/api-docs: the service's OpenAPI 3 document (embedded at build time from
  // services/<service>/openapi.json) completed with the endpoints every service has.
  void serve_openapi(std::string_view service_document);

  // Serves HTTP and blocks until a termination signal. Returns the exit code.
  int run();

 private:
  void add_actuator_routes();

  std::string service_;
  Settings settings_;
  std::uint16_t default_port_;
  std::string data_dir_;
  int malloc_arenas_;  // --malloc-arenas (2; 0: glibc's default): before any thread starts
  boost::asio::io_context io_;
  boost::asio::thread_pool blocking_;
  metrics::Registry metrics_;
  trace::Tracer tracer_;
  http::Router router_;
  HealthMonitor health_;
  std::vector<std::function<void()>> stop_actions_;
};

// Runs `body` and turns start-up failures (ConfigError, anything thrown before serving)
// into a one-line message on stderr and exit code 2.
int guarded_main(const char* service, const std::function<int()>& body);

}  // namespace orderflow::runtime
