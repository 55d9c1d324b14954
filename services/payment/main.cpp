// payment-service: the composition root. Config -> gateway client -> repository ->
// order-events consumer; stop actions run in reverse.
#include <condition_variable>

#include "libs/events/cloud_event.hpp"
#include "libs/http/client.hpp"
#include "libs/kafka/admin.hpp"
#include "libs/kafka/consumer.hpp"
#include "libs/kafka/dlq.hpp"
#include "libs/kafka/producer.hpp"
#include "libs/observability/log.hpp"
#include "libs/runtime/runtime.hpp"
#include "services/payment/consumers/order_events.hpp"
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
    const auto& settings = rt.settings();
    auto kafka_config = kafka::ClientConfig::from(settings);
    const int partitions = static_cast<int>(settings.integer("topic-partitions", 6, 1, 1000));
    const int replication = static_cast<int>(settings.integer("topic-replication-factor", 1, 1, 10));
    const std::string group = settings.str("consumer-group", "payment-service");
    const auto gateway = http::Endpoint::parse(settings.str("gateway-url", "http://localhost:8090"));
    payment::ChargePolicy policy;
    policy.timeout = settings.millis("gateway-timeout-ms", 2000);
    policy.attempts = static_cast<int>(settings.integer("charge-attempts", 3, 1, 20));
    policy.backoff_base = settings.millis("retry-backoff-ms", 100);
    policy.dlq_on_decline = settings.boolean("dlq-on-decline", false);

    payment::Probe probe(rt.metrics());
    payment::PaymentRepository repo(settings.str("db-path", rt.data_dir() + "/payment-service.db"));
    kafka::Producer producer(kafka_config, "payment-service");
    if (auto s = kafka::ensure_topics(producer, {{events::kOrderEvents, partitions, replication},
                                                 {events::kPaymentEvents, partitions, replication},
                                                 {kafka::dlq_topic("payment-service"), partitions, replication}});
        !s) {
      log::warn("could not ensure topics", {{"error", s.error().message}});
    }

    http::Client client(rt.io());
    auto charger = [&](http::Request req) { return client.send_blocking(gateway, std::move(req), policy.timeout); };
    payment::OrderEventsConsumer handler(repo, producer, probe, charger, policy, group);
    StopSignal stop_signal;
    handler.sleeper = [&](std::chrono::milliseconds d) { return stop_signal.sleep(d); };
    kafka::Consumer consumer(kafka_config, group, {events::kOrderEvents}, "payment-service");
    kafka::ConsumerLoop loop(consumer, [&](const kafka::Record& r) { handler.handle(r); }, "order-events");

    payment::add_payment_routes(rt.router(), repo, rt.blocking_pool());
    rt.health().add("db", [&] {
      repo.ping();
      return ok_status();
    });
    rt.health().add("kafka", [&] { return producer.ping(std::chrono::seconds(2)); });

    loop.start();
    rt.on_stop([&] {
      stop_signal.stop();
      loop.stop();
    });
    return rt.run();
  });
}
