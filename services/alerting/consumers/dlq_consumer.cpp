#include "services/alerting/consumers/dlq_consumer.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>
#include <stdexcept>

#include "libs/observability/log.hpp"
#include "libs/observability/trace.hpp"

namespace orderflow::alerting::consumers {
namespace {

constexpr std::size_t kMaxReason = 100;  // a label value and part of an email subject

std::int64_t header_int(const kafka::Record& r, std::string_view name, std::int64_t fallback) {
  auto v = r.header(name);
  if (!v) return fallback;
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  return ec == std::errc() && ptr == v->data() + v->size() ? n : fallback;
}

std::string trace_id_of(const kafka::Record& record) {
  auto ctx = trace::Context::parse(record.header("traceparent").value_or(""));
  return ctx ? ctx->trace_id : std::string();
}

}  // namespace

domain::DlqEntry to_entry(const kafka::Record& r) {
  domain::DlqEntry e;
  e.topic = r.topic;
  e.partition = r.partition;
  e.offset = r.offset;
  e.reason = r.header("dlq-reason").value_or("");
  if (e.reason.empty()) e.reason = "unknown";
  if (e.reason.size() > kMaxReason) e.reason.resize(kMaxReason);
  e.order_id = r.key;
  e.error_message = r.header("dlq-error-message").value_or("");
  e.correlation_id = r.header("ce_correlationid").value_or("");
  e.event_type = r.header("ce_type").value_or("");
  e.original_topic = r.header("dlq-original-topic").value_or("");
  e.original_partition = header_int(r, "dlq-original-partition", -1);
  e.original_offset = header_int(r, "dlq-original-offset", -1);
  e.consumer_group = r.header("dlq-consumer-group").value_or("");
  e.attempts = header_int(r, "dlq-attempts", 0);
  e.first_failure_time = r.header("dlq-first-failure-time").value_or("");
  e.last_failure_time = r.header("dlq-last-failure-time").value_or("");
  return e;
}

DlqConsumer::DlqConsumer(repository::AlertRepository& repo, mail::Mailer& mailer,
                         clients::Webhook* webhook, Clock clock, Probe& probe, Options options)
    : repo_(repo),
      mailer_(mailer),
      webhook_(webhook),
      clock_(std::move(clock)),
      probe_(probe),
      options_(std::move(options)) {}

void DlqConsumer::handle(const kafka::Record& record) {
  const auto entry = to_entry(record);
  const auto now = clock_();
  const std::string trace_id = trace_id_of(record);
  const auto admitted = repo_.admit(entry, now, options_.window);
  const auto& group = admitted.group;
  const std::string count = std::to_string(group.count);
  const log::Fields ids = {{"orderId", entry.order_id},   {"correlationId", entry.correlation_id},
                           {"traceId", trace_id},         {"dlqTopic", entry.topic},
                           {"reason", entry.reason},      {"groupCount", count},
                           {"error", entry.error_message}};
  if (admitted.inserted) {
    probe_.raised(entry.topic, entry.reason);
    log::warn("DLQ alert raised", ids);
  } else {
    log::info("DLQ record already alerted on (redelivered); not counted again", ids);
  }

  const auto todo = domain::plan(group, now, options_.retry_interval, webhook_ != nullptr);
  if (!todo.email && !todo.webhook) return;
  const auto message = domain::compose(entry, group, options_.window, options_.links);

  if (todo.email) {
    auto status = mailer_.send(
        mail::Message{options_.from, options_.email_to, message.subject, message.body, {}});
    if (!status && status.error().code == "cancelled")
      throw std::runtime_error("stopping: alert email not sent");
    repo_.mark_email(group.id, status.ok(), now);
    if (status) {
      probe_.email_sent();
      log::info("alert email sent", {{"orderId", entry.order_id},
                                     {"correlationId", entry.correlation_id},
                                     {"traceId", trace_id},
                                     {"to", options_.email_to},
                                     {"subject", message.subject}});
    } else {
      probe_.email_failed();
      log::error("alert email not sent; a later record of this window retries it",
                 {{"orderId", entry.order_id},
                  {"correlationId", entry.correlation_id},
                  {"traceId", trace_id},
                  {"code", status.error().code},
                  {"error", status.error().message}});
    }
  }
  if (todo.webhook) {
    auto status =
        webhook_->post(boost::json::serialize(domain::webhook_body(entry, group, message)));
    if (!status && status.error().code == "cancelled")
      throw std::runtime_error("stopping: alert webhook not sent");
    const std::string result = status ? "ok" : "failed";
    repo_.mark_webhook(group.id, result, now);
    probe_.webhook(result);
    if (status) {
      log::info("alert webhook delivered", {{"orderId", entry.order_id},
                                            {"correlationId", entry.correlation_id},
                                            {"traceId", trace_id}});
    } else {
      log::error("alert webhook failed; a later record of this window retries it",
                 {{"orderId", entry.order_id},
                  {"correlationId", entry.correlation_id},
                  {"traceId", trace_id},
                  {"code", status.error().code},
                  {"error", status.error().message}});
    }
  }
}

}  // namespace orderflow::alerting::consumers
