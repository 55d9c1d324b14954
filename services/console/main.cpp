// console: the composition root. Config -> order index (SQLite) fed by a consumer of every
// topic -> HTTP client for the services, Prometheus and Zipkin -> sessions -> the page and
// /api/*; stop actions run in reverse.
#include <openssl/rand.h>

#include "libs/auth/admin_tokens.hpp"
#include "libs/auth/authenticator.hpp"
#include "libs/common/time.hpp"
#include "libs/http/client.hpp"
#include "libs/kafka/consumer.hpp"
#include "libs/kafka/producer.hpp"
#include "libs/observability/log.hpp"
#include "libs/runtime/runtime.hpp"
#include "libs/storage/database.hpp"
#include "openapi_document.hpp"
#include "services/console/domain/session.hpp"
#include "services/console/handlers/api.hpp"
#include "services/console/probe.hpp"
#include "services/console/repository/event_index.hpp"

using namespace orderflow;

namespace {

constexpr const char* kService = "console";
// Every topic but the broker's own (__consumer_offsets, __transaction_state).
constexpr const char* kTopics = "^[^_].*";

// Session ids and CSRF tokens: from OpenSSL's CSPRNG, never from a seeded engine.
std::string secure_random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string strip_suffix(std::string s, std::string_view suffix) {
  if (s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
    s.resize(s.size() - suffix.size());
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  return runtime::guarded_main(kService, [&] {
    runtime::Runtime rt(kService, argc, argv, 8080);
    rt.serve_openapi(kOpenApiDocument);
    const auto& settings = rt.settings();
    const auto kafka_config = kafka::ClientConfig::from(settings);

    console::handlers::Upstreams up;
    up.order = http::Endpoint::parse(settings.str("order-url", "http://127.0.0.1:8081"));
    up.payment = http::Endpoint::parse(settings.str("payment-url", "http://127.0.0.1:8087"));
    up.gateway = http::Endpoint::parse(settings.str("gateway-url", "http://127.0.0.1:8090"));
    up.notification = http::Endpoint::parse(settings.str("notification-url", "http://127.0.0.1:8082"));
    up.alerting = http::Endpoint::parse(settings.str("alerting-url", "http://127.0.0.1:8083"));
    up.prometheus = http::Endpoint::parse(settings.str("prometheus-url", "http://127.0.0.1:9090"));
    // Zipkin: the base of its API; by default the one the spans go to (--zipkin-url).
    std::string spans_url = settings.str("zipkin-url", "");
    if (spans_url.empty()) spans_url = "http://127.0.0.1:9411/api/v2/spans";
    const std::string zipkin = settings.str("zipkin-query-url", strip_suffix(spans_url, "/api/v2/spans"));
    up.zipkin = http::Endpoint::parse(zipkin);
    up.zipkin_public_url = settings.str("zipkin-public-url", zipkin);
    up.order_api_key = settings.str("console-order-api-key", "");

    auto admin_tokens = auth::parse_admin_tokens(settings.str("admin-token", ""));
    if (!admin_tokens.empty()) up.admin_token = admin_tokens.front().token;
    std::unique_ptr<auth::Authenticator> api_keys;
    const auto keys = auth::parse_api_keys(settings.str("api-keys", ""));
    if (!keys.empty()) {
      auth::AuthConfig cfg;
      cfg.api_keys = keys;
      api_keys = std::make_unique<auth::Authenticator>(std::move(cfg));
    }
    const bool demo = settings.boolean("console-demo-sign-in", false);
    if (admin_tokens.empty() && !api_keys && !demo) {
      throw ConfigError(
          "the console needs a way to sign in: --admin-token / ORDERFLOW_ADMIN_TOKEN, --api-keys / "
          "ORDERFLOW_API_KEYS (admin keys), or --console-demo-sign-in=true for a local demo");
    }
    if (admin_tokens.empty()) {
      log::warn("no admin token: the DLQ pages cannot read or replay (alerting-service refuses the console)");
    }

    console::Probe probe(rt.metrics());
    storage::Database db(storage::database_url(settings, rt.data_dir() + "/console.db"), "console");
    console::repository::EventIndex index(db);
    kafka::Producer producer(kafka_config, kService, &rt.metrics());
    console::domain::SessionStore sessions(secure_random_hex, [] { return now_epoch_ms(); },
                                           settings.millis("console-session-idle-ms", 8 * 3600 * 1000));
    http::Client client(rt.io());

    kafka::Consumer consumer(kafka_config, settings.str("consumer-group", kService), {kTopics}, kService,
                             &rt.metrics());
    // No tracer: indexing is not part of an order's story, and its spans would clutter every trace.
    kafka::ConsumerLoop loop(
        consumer,
        [&](const kafka::Record& r) {
          auto added = index.add({console::repository::to_indexed(r)});
          probe.indexed(r.topic, added);
        },
        "index");

    log::info("console configured", {{"order", up.order.host + ":" + up.order.port},
                                      {"prometheus", up.prometheus.host + ":" + up.prometheus.port},
                                      {"zipkin", zipkin},
                                      {"adminTokens", std::to_string(admin_tokens.size())},
                                      {"apiKeys", std::to_string(keys.size())},
                                      {"demoSignIn", demo ? "true" : "false"}});

    console::handlers::add_asset_routes(rt.router());
    console::handlers::add_api_routes(
        rt.router(),
        {rt.blocking_pool(), client, std::move(up), sessions, index, probe, std::move(admin_tokens), api_keys.get(),
         demo, settings.boolean("console-secure-cookie", false), [&producer]() -> std::string {
           auto s = producer.ping(std::chrono::seconds(2));
           return s ? "UP" : s.error().code + ": " + s.error().message;
         }});
    rt.health().add("kafka", [&producer] { return producer.ping(std::chrono::seconds(2)); });
    rt.health().add("db", [&index] { return index.ping(); });

    loop.start();
    rt.on_stop([&] { loop.stop(); });
    return rt.run();
  });
}
