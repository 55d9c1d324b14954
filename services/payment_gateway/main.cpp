// payment-gateway: a stand-alone simulated card gateway with a Stripe-like API,
// deterministic test tokens and fault injection (SPEC §6). The composition root:
// settings -> ledger -> domain state -> handlers -> run.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "openapi_document.hpp"
#include "libs/common/settings.hpp"
#include "libs/observability/log.hpp"
#include "libs/runtime/runtime.hpp"
#include "libs/storage/database.hpp"
#include "services/payment_gateway/domain/faults.hpp"
#include "libs/auth/admin_tokens.hpp"
#include "services/payment_gateway/handlers/admin.hpp"
#include "services/payment_gateway/handlers/charges.hpp"
#include "services/payment_gateway/handlers/codec.hpp"
#include "services/payment_gateway/probe.hpp"
#include "services/payment_gateway/repository/charge_ledger.hpp"

namespace {

using namespace orderflow;
using namespace orderflow::payment_gateway;

constexpr const char* kService = "payment-gateway";
constexpr std::uint16_t kDefaultPort = 8090;

constexpr const char* kUsage = R"(payment-gateway: simulated card gateway (Stripe-like API, test tokens, fault injection)

Every flag also reads ORDERFLOW_<NAME> (e.g. --error-rate -> ORDERFLOW_ERROR_RATE); flags win.
  --http-port N            listen port (8090)
  --http-address A         listen address (0.0.0.0)
  --data-dir D             folder of payment-gateway.db (.run/data)
  --database-url URL       postgresql://user@host:port/db (schema payment_gateway), or
                           sqlite:///path; default: payment-gateway.db in --data-dir
  --slow-ms N              how long tok_slow holds its answer back (3000)
  --error-rate F           fraction 0..1 of charge calls answered 500 (0)
  --latency-ms N           latency added to every charge call (0)
  --latency-jitter-ms N    plus a uniform random 0..N ms (0)
  --outage                 answer every charge call 503 (false)
  --reset-after-commit-rate F  fraction 0..1 of charge calls processed (ledger committed)
                           and then answered with a connection reset instead (0)
  --drain-ms N             on SIGTERM, wait up to N ms for charge calls in flight (5000)
  --admin-token T          operator token(s) for /admin/faults: <token> or <name>:<token>,
                           comma-separated (none: /admin/faults answers 403)
  --log-level L            debug | info | warn | error (info)
Run-time fault injection: GET/POST/DELETE /admin/faults with 'Authorization: Bearer <token>'.
)";

struct Config final {
  FaultConfig faults;
  std::chrono::milliseconds slow_delay{3000};
  std::chrono::milliseconds drain{5000};
};

Config load_config(const Settings& s) {
  Config c;
  auto rate_text = s.str("error-rate", "0");
  auto rate = parse_fraction(rate_text);
  if (!rate) {
    throw ConfigError("--error-rate / ORDERFLOW_ERROR_RATE must be a fraction between 0 and 1 (0.3 = 30 %), got '" +
                      rate_text + "'");
  }
  c.faults.error_rate = *rate;
  auto reset_text = s.str("reset-after-commit-rate", "0");
  auto reset = parse_fraction(reset_text);
  if (!reset) {
    throw ConfigError("--reset-after-commit-rate / ORDERFLOW_RESET_AFTER_COMMIT_RATE must be a fraction between 0 and 1, "
                      "got '" + reset_text + "'");
  }
  c.faults.reset_after_commit_rate = *reset;
  c.faults.latency_ms = s.integer("latency-ms", 0, 0, kMaxInjectedLatencyMs);
  c.faults.latency_jitter_ms = s.integer("latency-jitter-ms", 0, 0, kMaxInjectedLatencyMs);
  c.faults.outage = s.boolean("outage", false);
  if (auto violations = validate(c.faults); !violations.empty()) {
    throw ConfigError("fault injection: " + violations.front().field + " " + violations.front().message);
  }
  c.slow_delay = std::chrono::milliseconds(s.integer("slow-ms", 3000, 0, 600'000));
  c.drain = std::chrono::milliseconds(s.integer("drain-ms", 5000, 0, 9000));
  return c;
}

int run(int argc, char** argv) {
  if (Settings(argc, argv).help_requested()) {
    std::cout << kUsage;
    return 0;
  }

  runtime::Runtime rt(kService, argc, argv, kDefaultPort);
  rt.serve_openapi(kOpenApiDocument);
  const Config config = load_config(rt.settings());

  storage::Database db(storage::database_url(rt.settings(), rt.data_dir() + "/payment-gateway.db"), "payment_gateway");
  ChargeLedger ledger(db);
  FaultState faults(config.faults);
  Probe probe(rt.metrics(), faults);

  ChargeHandlers charges(ledger, rt.blocking_pool(), faults, probe, {config.slow_delay});
  charges.add_routes(rt.router());
  AdminHandlers admin(faults, auth::parse_admin_tokens(rt.settings().str("admin-token", "")));
  admin.add_routes(rt.router());

  rt.health().add("db", [&ledger] { return ledger.ping(); });

  // After the server stops accepting: let charge calls in flight answer (bounded), so a
  // client is not left without the answer to a charge that was made.
  rt.on_stop([&probe, drain = config.drain] {
    const auto deadline = std::chrono::steady_clock::now() + drain;
    while (probe.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (probe.in_flight() > 0) {
      log::warn("charge calls still in flight at shutdown", {{"count", std::to_string(probe.in_flight())}});
    }
  });

  const auto& f = config.faults;
  const bool faulty = f.outage || f.error_rate > 0 || f.latency_ms > 0 || f.latency_jitter_ms > 0 ||
                      f.reset_after_commit_rate > 0;
  log::write(faulty ? log::Level::kWarn : log::Level::kInfo, "payment gateway configured",
             {{"slowMs", std::to_string(config.slow_delay.count())},
              {"errorRate", codec::format_fraction(f.error_rate)},
              {"latencyMs", std::to_string(f.latency_ms)},
              {"latencyJitterMs", std::to_string(f.latency_jitter_ms)},
              {"outage", f.outage ? "true" : "false"},
              {"resetAfterCommitRate", codec::format_fraction(f.reset_after_commit_rate)}});

  const int code = rt.run();
  // No ledger call may outlive the database: wait for the blocking pool before `db` goes.
  rt.blocking_pool().join();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  return runtime::guarded_main(kService, [&] { return run(argc, argv); });
}
