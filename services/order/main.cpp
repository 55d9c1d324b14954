// order-service: the composition root. Config -> clients -> repository -> relay ->
// consumer -> HTTP handlers; stop actions run in reverse.
#include "openapi_document.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/kafka/dlq.hpp"
#include "libs/kafka/admin.hpp"
#include "libs/kafka/consumer.hpp"
#include "libs/kafka/batch_loop.hpp"
#include "libs/kafka/producer.hpp"
#include "libs/observability/log.hpp"
#include "libs/runtime/runtime.hpp"
#include "services/order/consumers/payment_events.hpp"
#include "services/order/handlers/order_handlers.hpp"
#include "services/order/outbox/relay.hpp"
#include "services/order/probe.hpp"
#include "services/order/repository/order_repository.hpp"

using namespace orderflow;

int main(int argc, char** argv) {
  return runtime::guarded_main("order-service", [&] {
    runtime::Runtime rt("order-service", argc, argv, 8081);
    rt.serve_openapi(kOpenApiDocument);
    const auto& settings = rt.settings();
    auto kafka_config = kafka::ClientConfig::from(settings);
    const int partitions = static_cast<int>(settings.integer("topic-partitions", 6, 1, 1000));
    const int replication = static_cast<int>(settings.integer("topic-replication-factor", 1, 1, 10));
    const std::string group = settings.str("consumer-group", "order-service");

    order::Probe probe(rt.metrics());
    // --commit-linger-ms: new orders arriving at a moderate rate share a commit (and fsync).
    order::OrderRepository repo(storage::database_url(settings, rt.data_dir() + "/order-service.db"), "order_service",
                                1024, settings.millis("commit-linger-ms", 0));
    kafka::Producer producer(kafka_config, "order-service", &rt.metrics());
    if (auto s = kafka::ensure_topics(producer, {{events::kOrderEvents, partitions, replication},
                                                 {events::kPaymentEvents, partitions, replication},
                                                 {kafka::dlq_topic("order-service"), partitions, replication}});
        !s) {
      // Not fatal: the broker may be on its way up; health reports Kafka DOWN meanwhile.
      log::warn("could not ensure topics", {{"error", s.error().message}});
    }

    // On the blocking pool: a round holds one of its threads while it waits for Kafka's acks.
    order::OutboxRelay relay(repo, producer, probe, rt.blocking_pool());
    auto wake_relay = [&relay] { relay.notify(); };
    order::PaymentEventsConsumer handler(repo, producer, probe, group, wake_relay);
    kafka::Consumer consumer(kafka_config, group, {events::kPaymentEvents}, "order-service", &rt.metrics());
    // A poll batch at a time: its payments in one transaction, one wake-up of the relay.
    auto loop_options = kafka::BatchConsumerLoop::Options::from(settings);
    loop_options.registry = &rt.metrics();
    kafka::BatchConsumerLoop loop(consumer, [&](std::span<const kafka::Delivery> wave) { handler.handle_batch(wave); },
                                  "payment-events", std::move(loop_options), &rt.tracer());

    // Secure by default: credentials are required unless --auth-mode none (make run's demo).
    auth::Authenticator authenticator(auth::AuthConfig::from(settings));
    auth::RateLimiter limiter(static_cast<double>(settings.integer("rate-limit-rps", 200, 0, 1'000'000)),
                              static_cast<double>(settings.integer("rate-limit-burst", 400, 1, 10'000'000)));
    log::info("order API access", {{"authentication", authenticator.required() ? "required" : "off (demo mode)"},
                                   {"rateLimitPerClient", limiter.enabled() ? "on" : "off"}});
    order::add_order_routes(rt.router(), {repo, authenticator, limiter, rt.blocking_pool(), probe, wake_relay});
    rt.health().add("db", [&repo] { return repo.ping(); });
    rt.health().add("kafka", [&] { return producer.ping(std::chrono::seconds(2)); });

    relay.start();
    rt.on_stop([&] { relay.stop(); });
    loop.start();
    rt.on_stop([&] { loop.stop(); });
    return rt.run();
  });
}
