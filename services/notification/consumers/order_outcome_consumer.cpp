#include "services/notification/consumers/order_outcome_consumer.hpp"

#include <algorithm>
#include <stdexcept>

#include "libs/common/time.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"
#include "libs/kafka/dlq.hpp"
#include "libs/mail/message.hpp"
#include "libs/observability/log.hpp"
#include "libs/observability/trace.hpp"

namespace orderflow::notification::consumers {
namespace {

std::string trace_id_of(const kafka::Record& record) {
  auto ctx = trace::Context::parse(record.header("traceparent").value_or(""));
  return ctx ? ctx->trace_id : std::string();
}

bool printable_ascii(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// Error codes after which the record is handed back instead of dead-lettered: the service
// is stopping and the email may well go out after the restart.
bool stopping_error(const Error& e) { return e.code == "cancelled"; }

}  // namespace

OrderOutcomeConsumer::OrderOutcomeConsumer(repository::NotificationRepository& repo,
                                           mail::Mailer& mailer, DlqSender dlq, Sleeper sleep,
                                           Clock clock, Probe& probe, Options options)
    : repo_(repo),
      mailer_(mailer),
      dlq_(std::move(dlq)),
      sleep_(std::move(sleep)),
      clock_(std::move(clock)),
      probe_(probe),
      options_(std::move(options)) {
  auto from = mail::addr_spec(options_.from);
  auto at = from.rfind('@');
  sender_domain_ = at == std::string::npos ? "orderflow.local" : from.substr(at + 1);
}

void OrderOutcomeConsumer::handle(const kafka::Record& record) {
  auto sent = send_for(record);
  if (!sent) return;
  // A crash between the send and this record means one more email after the restart; a
  // database error here is retried without a second email (see the header).
  repo_.record(*sent);
  forget_sent({sent->order_id, sent->outcome});
}

void OrderOutcomeConsumer::handle_batch(std::span<const kafka::Delivery> wave, WorkPool* pool) {
  std::vector<std::optional<repository::Notification>> sent(wave.size());
  // A record that throws (stopping, say) does not keep the others from being decided, and
  // the emails sent are recorded before the wave is handed back: only what was not decided
  // comes back.
  std::mutex mu;
  std::exception_ptr failure;
  const auto one = [&](std::size_t i) {
    try {
      sent[i] = send_for(*wave[i].record);
    } catch (...) {
      std::lock_guard lock(mu);
      if (!failure) failure = std::current_exception();
    }
  };
  if (pool != nullptr) {
    pool->for_each(wave.size(), one);
  } else {
    for (std::size_t i = 0; i < wave.size(); ++i) one(i);
  }
  std::vector<repository::Notification> to_record;
  for (auto& n : sent) {
    if (n) to_record.push_back(std::move(*n));
  }
  if (!to_record.empty()) {
    repo_.record_all(to_record);  // one transaction; throws while the database is down
    for (const auto& n : to_record) forget_sent({n.order_id, n.outcome});
  }
  if (failure) std::rethrow_exception(failure);
}

std::optional<repository::Notification> OrderOutcomeConsumer::send_for(const kafka::Record& record) {
  const std::int64_t received_ms = clock_();
  const std::string trace_id = trace_id_of(record);

  auto decoded = events::decode(record);
  if (!decoded) {
    to_dlq(record, decoded.error(), 1, received_ms, record.header("ce_correlationid").value_or(""),
           trace_id);
    return std::nullopt;
  }
  const events::CloudEvent& ce = decoded->ce;
  auto outcome = domain::outcome_of_event_type(ce.type);
  if (!outcome) {
    probe_.skipped("not-an-outcome");
    log::debug("event needs no notification", {{"eventType", ce.type},
                                               {"eventId", ce.id},
                                               {"orderId", record.key},
                                               {"correlationId", ce.correlation_id},
                                               {"traceId", trace_id}});
    return std::nullopt;
  }
  auto parsed =
      events::parse_order_outcome(decoded->payload, *outcome == domain::Outcome::kConfirmed);
  if (!parsed) {
    to_dlq(record, parsed.error(), 1, received_ms, ce.correlation_id, trace_id);
    return std::nullopt;
  }
  const events::OrderOutcome& event = *parsed;
  const std::string outcome_name(domain::outcome_name(*outcome));
  const log::Fields ids = {{"orderId", event.order_id},
                           {"correlationId", ce.correlation_id},
                           {"traceId", trace_id},
                           {"eventId", ce.id},
                           {"outcome", outcome_name}};

  // Check before sending, record after sending.
  const auto key = std::make_pair(event.order_id, *outcome);
  domain::Known known = repo_.lookup(ce.id, event.order_id, *outcome);
  known.sent_not_recorded = sent_not_recorded(key).has_value();
  const auto action = domain::decide(known);
  switch (action) {
    case domain::Action::kSkipRedelivered:
    case domain::Action::kSkipDuplicate:
      probe_.skipped(std::string(domain::action_name(action)));
      log::info("customer already notified of this outcome; nothing sent", ids);
      return std::nullopt;
    case domain::Action::kRecordOnly:
      log::info("recording a notification sent earlier", ids);
      return sent_not_recorded(key);  // the caller records it (throws again while the database is down)
    case domain::Action::kSend:
      break;
  }

  const domain::Email email = domain::compose(event, sender_domain_);
  mail::Message message{
      options_.from, email.to, email.subject, email.body, {{"Message-ID", email.message_id}}};
  // Optional trace headers: only when they are plain tokens (they come from the event).
  if (printable_ascii(event.order_id))
    message.headers.emplace_back("X-Orderflow-Order-Id", event.order_id);
  if (printable_ascii(ce.correlation_id))
    message.headers.emplace_back("X-Correlation-ID", ce.correlation_id);

  int attempt_no = 0;
  auto result = domain::retry(
      options_.retry,
      [&]() -> Status {
        ++attempt_no;
        auto status = mailer_.send(message);
        if (!status) {
          probe_.send_failed(status.error().code);
          log::warn("email not sent", {{"orderId", event.order_id},
                                       {"correlationId", ce.correlation_id},
                                       {"traceId", trace_id},
                                       {"attempt", std::to_string(attempt_no)},
                                       {"code", status.error().code},
                                       {"error", status.error().message}});
        }
        return status;
      },
      sleep_);
  if (!result.status) {
    const Error& error = result.status.error();
    const bool cut_short = error.retryable && result.attempts < options_.retry.max_attempts;
    if (stopping_error(error) || cut_short) {
      // Hand the record back: it is redelivered after the restart.
      throw std::runtime_error("stopping before the email could be sent");
    }
    to_dlq(record, error, result.attempts, received_ms, ce.correlation_id, trace_id);
    return std::nullopt;
  }

  repository::Notification sent{
      event.order_id, *outcome,          email.to, email.subject, std::string(mailer_.channel()),
      ce.id,          ce.correlation_id, clock_()};
  probe_.sent(outcome_name, sent.channel);
  log::info("customer notified", {{"orderId", event.order_id},
                                  {"correlationId", ce.correlation_id},
                                  {"traceId", trace_id},
                                  {"eventId", ce.id},
                                  {"outcome", outcome_name},
                                  {"channel", sent.channel},
                                  {"attempts", std::to_string(result.attempts)}});
  // Remembered until recorded: if recording fails, the record comes back and is recorded
  // without a second email.
  remember_sent(key, sent);
  return sent;
}

std::optional<repository::Notification> OrderOutcomeConsumer::sent_not_recorded(const SentKey& key) const {
  std::lock_guard lock(sent_mu_);
  auto it = sent_not_recorded_.find(key);
  if (it == sent_not_recorded_.end()) return std::nullopt;
  return it->second;
}

void OrderOutcomeConsumer::remember_sent(const SentKey& key, const repository::Notification& sent) {
  std::lock_guard lock(sent_mu_);
  sent_not_recorded_[key] = sent;
}

void OrderOutcomeConsumer::forget_sent(const SentKey& key) {
  std::lock_guard lock(sent_mu_);
  sent_not_recorded_.erase(key);
}

void OrderOutcomeConsumer::to_dlq(const kafka::Record& record, const Error& error, int attempts,
                                  std::int64_t first_failure_ms, const std::string& correlation_id,
                                  const std::string& trace_id) {
  kafka::DlqFailure failure{options_.consumer_group,
                            error.code,
                            error.message,
                            attempts,
                            iso8601_from_ms(first_failure_ms),
                            iso8601_from_ms(clock_())};
  auto status = dlq_(kafka::make_dlq_record(record, options_.dlq_topic, failure));
  if (!status) {
    // Not stored: the ConsumerLoop hands the record back after a back-off.
    throw std::runtime_error("cannot produce to " + options_.dlq_topic + ": " +
                             status.error().message);
  }
  probe_.dlq(options_.dlq_topic, error.code);
  log::warn("record sent to the DLQ", {{"orderId", record.key},
                                       {"correlationId", correlation_id},
                                       {"traceId", trace_id},
                                       {"topic", record.topic},
                                       {"partition", std::to_string(record.partition)},
                                       {"offset", std::to_string(record.offset)},
                                       {"dlqTopic", options_.dlq_topic},
                                       {"reason", error.code},
                                       {"error", error.message}});
}

}  // namespace orderflow::notification::consumers
