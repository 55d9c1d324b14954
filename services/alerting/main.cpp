// alerting-service: the composition root. Config -> Kafka producer (health, DLQ depths,
// replays) -> repositories -> mailer and webhook -> consumer of every *.dlq topic -> DLQ
// operations -> HTTP handlers; stop actions run in reverse.
#include <filesystem>
#include <mutex>

#include "openapi_document.hpp"
#include "libs/common/time.hpp"
#include "libs/kafka/consumer.hpp"
#include "libs/kafka/producer.hpp"
#include "libs/mail/mailer.hpp"
#include "libs/mail/message.hpp"
#include "libs/observability/log.hpp"
#include "libs/runtime/runtime.hpp"
#include "libs/storage/database.hpp"
#include "services/alerting/clients/dlq_inspector.hpp"
#include "services/alerting/clients/dlq_reader.hpp"
#include "services/alerting/clients/webhook.hpp"
#include "services/alerting/consumers/dlq_consumer.hpp"
#include "services/alerting/domain/dlq_ops.hpp"
#include "services/alerting/handlers/alert_handlers.hpp"
#include "services/alerting/handlers/alertmanager_handler.hpp"
#include "services/alerting/handlers/dlq_handlers.hpp"
#include "services/alerting/operations/dlq_operations.hpp"
#include "services/alerting/probe.hpp"
#include "services/alerting/repository/alert_repository.hpp"
#include "services/alerting/repository/replay_repository.hpp"

using namespace orderflow;

namespace {

constexpr const char* kService = "alerting-service";
// Every dead letter topic (SPEC §4: "<consumer-service>.dlq"), including ones created later.
constexpr const char* kDlqPattern = "^.*\\.dlq$";


}  // namespace

int main(int argc, char** argv) {
  return runtime::guarded_main(kService, [&] {
    runtime::Runtime rt(kService, argc, argv, 8083);
    rt.serve_openapi(kOpenApiDocument);
    const auto& settings = rt.settings();
    const auto kafka_config = kafka::ClientConfig::from(settings);
    const auto mail_config =
        mail::MailerConfig::from_settings(settings, mail::default_mail_dir(rt.data_dir(), kService));
    const std::string group = settings.str("consumer-group", kService);

    alerting::consumers::DlqConsumer::Options options;
    options.from = mail_config.from;
    options.email_to = settings.str("alert-email-to", options.email_to);
    if (!mail::valid_addr_spec(mail::addr_spec(options.email_to))) {
      throw ConfigError(
          "--alert-email-to / ORDERFLOW_ALERT_EMAIL_TO must be an email address, got '" +
          options.email_to + "'");
    }
    options.window = settings.millis("alert-window-ms", 60'000);
    if (options.window.count() <= 0)
      throw ConfigError("--alert-window-ms / ORDERFLOW_ALERT_WINDOW_MS must be > 0");
    options.retry_interval = settings.millis("alert-retry-interval-ms", 30'000);
    const auto port = settings.integer("http-port", 8083, 0, 65535);
    options.links.alerting_url =
        settings.str("public-url", "http://localhost:" + std::to_string(port));
    options.links.kafka_bootstrap = kafka_config.bootstrap;
    const std::string webhook_url = settings.str("alert-webhook-url", "");
    if (!webhook_url.empty() && webhook_url.rfind("http://", 0) != 0 &&
        webhook_url.rfind("https://", 0) != 0) {
      throw ConfigError(
          "--alert-webhook-url / ORDERFLOW_ALERT_WEBHOOK_URL must be an http:// or https:// URL");
    }

    // DLQ operations (browse, replay) are admin-only; without a token they are disabled.
    auto admin_tokens = alerting::domain::parse_admin_tokens(settings.str("admin-token", ""));
    alerting::operations::DlqOperations::Options ops_options;
    ops_options.replay_max = static_cast<std::size_t>(settings.integer("replay-max", 500, 1, 10'000));
    ops_options.ack_timeout = settings.millis("replay-ack-timeout-ms", 30'000);
    const auto read_timeout = settings.millis("dlq-read-timeout-ms", 10'000);
    if (ops_options.ack_timeout.count() <= 0 || read_timeout.count() <= 0) {
      throw ConfigError(
          "--replay-ack-timeout-ms and --dlq-read-timeout-ms (ORDERFLOW_REPLAY_ACK_TIMEOUT_MS, "
          "ORDERFLOW_DLQ_READ_TIMEOUT_MS) must be > 0");
    }

    alerting::Probe probe(rt.metrics());
    storage::Database db(storage::database_url(settings, rt.data_dir() + "/alerting-service.db"), "alerting_service");
    alerting::repository::AlertRepository repo(db);
    kafka::Producer producer(kafka_config, kService, &rt.metrics());
    alerting::clients::DlqInspector inspector(producer);
    alerting::repository::ReplayRepository replays(db);
    alerting::clients::DlqReader reader(kafka_config, std::string(kService) + "-dlq-reader",
                                        read_timeout);
    alerting::operations::DlqOperations dlq_ops(inspector, reader, producer, replays,
                                                [] { return now_epoch_ms(); }, ops_options);
    auto mailer = mail::make_mailer(mail_config);
    std::unique_ptr<alerting::clients::Webhook> webhook;
    if (!webhook_url.empty()) {
      webhook = std::make_unique<alerting::clients::CurlWebhook>(
          webhook_url, settings.str("alert-webhook-authorization", ""),
          settings.millis("alert-webhook-timeout-ms", 5'000));
    }
    log::info(
        "alerting configured",
        {{"mail", mail_config.describe()},
         {"emailTo", options.email_to},
         {"webhook", webhook_url.empty() ? "none" : alerting::clients::redact_url(webhook_url)},
         {"windowMs", std::to_string(options.window.count())},
         {"adminTokens", std::to_string(admin_tokens.size())},
         {"replayMax", std::to_string(ops_options.replay_max)}});
    if (admin_tokens.empty()) {
      log::warn("DLQ operations disabled: no admin token (set --admin-token / ORDERFLOW_ADMIN_TOKEN)");
    }

    alerting::consumers::DlqConsumer handler(
        repo, *mailer, webhook.get(), [] { return now_epoch_ms(); }, probe, options);
    kafka::Consumer consumer(kafka_config, group, {kDlqPattern}, kService, &rt.metrics());
    kafka::ConsumerLoop loop(
        consumer, [&handler](const kafka::Record& r) { handler.handle(r); }, "dlq-topics",
        &rt.tracer());

    alerting::handlers::add_routes(rt.router(), rt.blocking_pool(), repo, inspector);
    alerting::handlers::add_alertmanager_route(
        rt.router(), {rt.blocking_pool(), webhook.get(), *mailer, mail_config.from, options.email_to});
    alerting::handlers::add_dlq_routes(
        rt.router(), {rt.blocking_pool(), dlq_ops, replays, std::move(admin_tokens)});
    rt.health().add("kafka", [&producer] { return producer.ping(std::chrono::seconds(2)); });
    rt.health().add("db", [&repo] { return repo.ping(); });

    loop.start();
    // Cut an email or webhook in flight short (its record is not committed and comes back
    // after the restart), then close the consumer.
    rt.on_stop([&] {
      mailer->cancel();
      if (webhook) webhook->cancel();
      loop.stop();
    });
    return rt.run();
  });
}
