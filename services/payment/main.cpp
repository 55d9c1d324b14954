// payment-service: the composition root. Config -> gateway client -> repository ->
// order-events consumer; stop actions run in reverse.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <condition_variable>

#include "openapi_document.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"
#include "libs/http/client.hpp"
#include "libs/kafka/admin.hpp"
#include "libs/kafka/consumer.hpp"
#include "libs/kafka/batch_loop.hpp"
#include "libs/kafka/dlq.hpp"
#include "libs/kafka/producer.hpp"
#include "libs/kafka/sqlite_parking_store.hpp"
#include "libs/observability/log.hpp"
#include "libs/runtime/runtime.hpp"
#include "services/payment/consumers/order_events.hpp"
#include "services/payment/domain/replay.hpp"
#include "services/payment/handlers/payment_handlers.hpp"
#include "services/payment/probe.hpp"
#include "services/payment/repository/payment_repository.hpp"

using namespace orderflow;

namespace {

// Lets back-off waits end early at shutdown.
class StopSignal final {
 public:
  bool sleep(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopping_; });
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  return runtime::guarded_main("payment-service", [&] {
    runtime::Runtime rt("payment-service", argc, argv, 8087);
    rt.serve_openapi(kOpenApiDocument);
    const auto& settings = rt.settings();
    auto kafka_config = kafka::ClientConfig::from(settings);
    const int partitions = static_cast<int>(settings.integer("topic-partitions", 6, 1, 1000));
    const int replication = static_cast<int>(settings.integer("topic-replication-factor", 1, 1, 10));
    const std::string group = settings.str("consumer-group", "payment-service");
    const auto gateway = http::Endpoint::parse(settings.str("gateway-url", "http://localhost:8090"));
    const auto gateway_timeout = settings.millis("gateway-timeout-ms", 2000);
    payment::ChargePolicy policy;
    policy.attempts = static_cast<int>(settings.integer("charge-attempts", 3, 1, 20));
    policy.backoff_base = settings.millis("retry-backoff-ms", 100);
    policy.dlq_on_decline = settings.boolean("dlq-on-decline", false);
    // Both waves' charges at once (a pipelined loop has up to two under way, of up to
    // consumer-max-batch = 200 records each): with fewer, a wave waits for the gateway twice
    // or more (measured with one wave of 500: T4 0.65 x T1 with 256, 0.75 with 512).
    policy.max_in_flight = static_cast<std::size_t>(settings.integer("gateway-max-in-flight", 512, 1, 4096));
    policy.retry.rounds = static_cast<int>(settings.integer("retry-rounds", 5, 1, 100));
    policy.retry.base = settings.millis("retry-topic-backoff-ms", 4000);
    policy.retry.max = settings.millis("retry-topic-backoff-max-ms", 32000);
    payment::CircuitBreaker breaker({static_cast<int>(settings.integer("breaker-failure-threshold", 5, 1, 1000)),
                                     settings.millis("breaker-open-ms", 10000)});

    payment::Probe probe(rt.metrics());
    probe.watch(breaker);
    payment::PaymentRepository repo(storage::database_url(settings, rt.data_dir() + "/payment-service.db"));
    kafka::Producer producer(kafka_config, "payment-service", &rt.metrics());
    if (auto s = kafka::ensure_topics(producer, {{events::kOrderEvents, partitions, replication},
                                                 {events::kPaymentEvents, partitions, replication},
                                                 {events::kPaymentRetry, partitions, replication},
                                                 {kafka::dlq_topic("payment-service"), partitions, replication}});
        !s) {
      log::warn("could not ensure topics", {{"error", s.error().message}});
    }

    // Keep-alive connections to the gateway: as many as a batch has calls in flight.
    http::Client client(rt.io(), policy.max_in_flight, &rt.tracer());
    auto gateway_call = [&](http::Request req) { return client.send_blocking(gateway, std::move(req), gateway_timeout); };
    StopSignal stop_signal;
    auto sleeper = [&](std::chrono::milliseconds d) { return stop_signal.sleep(d); };
    // Two members: new orders, and delayed retries (its own group, so a retry waiting for
    // its time never holds up new orders).
    payment::OrderEventsConsumer handler(repo, producer, probe, gateway_call, breaker, policy, group, sleeper);
    payment::OrderEventsConsumer retry_handler(repo, producer, probe, gateway_call, breaker, policy, group + "-retry",
                                               sleeper);
    // Per-key order through retries and the DLQ: while an order's record waits in the retry
    // topic or the DLQ, later order-events records of it wait in the parking store.
    kafka::SqliteParkingStore parking_store(settings.str("parking-db-path", rt.data_dir() + "/payment-service-parking.db"));
    kafka::KeyParking parking(parking_store, [&](const kafka::Record& r) { handler.handle(r); });
    handler.use_parking(parking);
    retry_handler.use_parking(parking);
    // A crash between a decision and the release of the records behind it: release now.
    parking.resolve_settled([&](const std::string& order_id) {
      auto row = repo.find(order_id);
      return row && !payment::replay_is_new_attempt(row->status, row->reason);
    });
    kafka::Consumer consumer(kafka_config, group, {events::kOrderEvents}, "payment-service", &rt.metrics());
    kafka::Consumer retry_consumer(kafka_config, group + "-retry", {events::kPaymentRetry}, "payment-service-retry",
                                  &rt.metrics());
    // A poll batch at a time: its new orders charged all at once on the HTTP client's event
    // loop (no thread per call), decided in one transaction, announced in one produce round.
    auto loop_options = kafka::BatchConsumerLoop::Options::from(settings);
    loop_options.registry = &rt.metrics();
    // OrderConfirmed / OrderFailed share the topic but are not this service's: dropped by
    // their header before anything decodes them.
    loop_options.ignore = [](const kafka::Record& r) {
      auto type = r.header("ce_type");
      return type && (*type == events::OrderOutcome::kConfirmed || *type == events::OrderOutcome::kFailed);
    };
    // The per-record path (transient answers with their retries and back-offs, replays,
    // held keys) of a batch's records, a few at a time.
    WorkPool slow_path(static_cast<std::size_t>(settings.integer("consumer-slow-path-threads", 3, 0, 64)), "charge-retry");
    handler.use_async_gateway([&](http::Request req, std::function<void(Result<http::Response>)> done) {
      boost::asio::co_spawn(
          rt.io(),
          [&, req = std::move(req), done = std::move(done)]() mutable -> boost::asio::awaitable<void> {
            done(co_await client.send(gateway, std::move(req), gateway_timeout));
          },
          boost::asio::detached);
    });
    // Pipelined: while one wave's charges are on the wire, the loop polls the next and sends
    // its charges, then records and announces the first (a slow gateway's wait is overlapped).
    // --pipeline-waves false: one wave at a time (for comparison).
    const bool pipelined = settings.boolean("pipeline-waves", true);
    kafka::BatchConsumerLoop loop(
        consumer,
        kafka::BatchConsumerLoop::Pipelined{[&](std::span<const kafka::Delivery> wave) -> kafka::BatchConsumerLoop::Finisher {
          auto finish = handler.start_batch(wave, &slow_path);
          if (pipelined) return finish;
          finish();
          return {};
        }},
        "order-events", std::move(loop_options), &rt.tracer());
    kafka::ConsumerLoop retry_loop(retry_consumer, [&](const kafka::Record& r) { retry_handler.handle(r); },
                                   "payment-retry", &rt.tracer());

    payment::add_payment_routes(rt.router(), repo, rt.blocking_pool());
    rt.health().add("db", [&repo] { return repo.ping(); });
    rt.health().add("kafka", [&] { return producer.ping(std::chrono::seconds(2)); });
    rt.health().add_details("circuitBreaker", [&] {
      return boost::json::object{{"state", payment::to_string(breaker.state(payment::CircuitBreaker::Clock::now()))},
                                 {"consecutiveFailures", breaker.consecutive_failures()}};
    });

    loop.start();
    retry_loop.start();
    rt.on_stop([&] {
      stop_signal.stop();
      retry_loop.stop();
      loop.stop();
    });
    return rt.run();
  });
}
