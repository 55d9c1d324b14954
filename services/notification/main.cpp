// notification-service: the composition root. Config -> Kafka producer (DLQ) -> repository
// -> mailer -> consumer of order-events -> HTTP handlers; stop actions run in reverse.
#include <filesystem>
#include <mutex>

#include "openapi_document.hpp"
#include "libs/common/time.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"
#include "libs/kafka/admin.hpp"
#include "libs/kafka/consumer.hpp"
#include "libs/kafka/batch_loop.hpp"
#include "libs/kafka/dlq.hpp"
#include "libs/kafka/producer.hpp"
#include "libs/mail/mailer.hpp"
#include "libs/observability/log.hpp"
#include "libs/runtime/runtime.hpp"
#include "libs/storage/database.hpp"
#include "services/notification/consumers/order_outcome_consumer.hpp"
#include "services/notification/consumers/stop_signal.hpp"
#include "services/notification/handlers/notifications_handler.hpp"
#include "services/notification/probe.hpp"
#include "services/notification/repository/notification_repository.hpp"

using namespace orderflow;

namespace {

constexpr const char* kService = "notification-service";


}  // namespace

int main(int argc, char** argv) {
  return runtime::guarded_main(kService, [&] {
    runtime::Runtime rt(kService, argc, argv, 8082);
    rt.serve_openapi(kOpenApiDocument);
    const auto& settings = rt.settings();
    const auto kafka_config = kafka::ClientConfig::from(settings);
    const auto mail_config =
        mail::MailerConfig::from_settings(settings, mail::default_mail_dir(rt.data_dir(), kService));
    const int partitions = static_cast<int>(settings.integer("topic-partitions", 6, 1, 1000));
    const int replication =
        static_cast<int>(settings.integer("topic-replication-factor", 1, 1, 10));
    const std::string group = settings.str("consumer-group", kService);
    notification::consumers::OrderOutcomeConsumer::Options options;
    options.consumer_group = group;
    options.dlq_topic = kafka::dlq_topic(kService);
    options.from = mail_config.from;
    options.retry.max_attempts = static_cast<int>(settings.integer("mail-attempts", 3, 1, 10));
    options.retry.first_backoff = settings.millis("mail-retry-backoff-ms", 500);

    notification::Probe probe(rt.metrics());
    storage::Database db(storage::database_url(settings, rt.data_dir() + "/notification-service.db"),
                         "notification_service");
    notification::repository::NotificationRepository repo(db);
    kafka::Producer producer(kafka_config, kService, &rt.metrics());
    if (auto s = kafka::ensure_topics(producer, {{events::kOrderEvents, partitions, replication},
                                                 {options.dlq_topic, partitions, replication}});
        !s) {
      // Not fatal: the broker may be on its way up; health reports Kafka DOWN meanwhile.
      log::warn("could not ensure topics", {{"error", s.error().message}});
    }
    auto mailer = mail::make_mailer(mail_config);
    log::info("mail configured", {{"channel", std::string(mailer->channel())},
                                  {"to", mail_config.describe()},
                                  {"from", mail_config.from}});

    notification::consumers::StopSignal stopping;
    notification::consumers::OrderOutcomeConsumer handler(
        repo, *mailer,
        [&producer](kafka::Record r) {
          return producer.send_sync(std::move(r), std::chrono::seconds(10));
        },
        [&stopping](std::chrono::milliseconds d) { return stopping.wait_for(d); },
        [] { return now_epoch_ms(); }, probe, options);
    kafka::Consumer consumer(kafka_config, group, {events::kOrderEvents}, kService, &rt.metrics());
    // A poll batch at a time: its emails spread over a few sender threads (an SMTP hand-off
    // takes a while), then all recorded in one transaction.
    auto loop_options = kafka::BatchConsumerLoop::Options::from(settings);
    loop_options.registry = &rt.metrics();
    // OrderCreated shares the topic but asks for no email: dropped before decoding by its
    // header (and counted as the handler would).
    loop_options.ignore = [&probe](const kafka::Record& r) {
      auto type = r.header("ce_type");
      if (!type || *type != events::OrderCreated::kType) return false;
      probe.skipped("not-an-outcome");
      return true;
    };
    // Threads that share a batch's emails, for SMTP, whose transfers wait on the server
    // (several round trips each). Into a mail folder an email takes ~30 µs: handing it to
    // another thread and waiting for it would cost more than writing it, so none by default.
    const auto default_senders = mail_config.smtp_url.empty() ? 0 : 3;
    WorkPool senders(static_cast<std::size_t>(settings.integer("mail-senders", default_senders, 0, 64)), "mail-send");
    kafka::BatchConsumerLoop loop(
        consumer, [&](std::span<const kafka::Delivery> wave) { handler.handle_batch(wave, &senders); },
        events::kOrderEvents, std::move(loop_options), &rt.tracer());

    notification::handlers::add_routes(rt.router(), rt.blocking_pool(), repo);
    rt.health().add("kafka", [&producer] { return producer.ping(std::chrono::seconds(2)); });
    rt.health().add("db", [&repo] { return repo.ping(); });

    loop.start();
    // Cut retry back-offs and SMTP transfers short (an unsent email's record is not
    // committed and comes back after the restart), then close the consumer.
    rt.on_stop([&] {
      stopping.stop();
      mailer->cancel();
      loop.stop();
    });
    return rt.run();
  });
}
