#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "libs/common/result.hpp"
#include "libs/common/work_pool.hpp"
#include "libs/kafka/batch_loop.hpp"
#include "libs/kafka/record.hpp"
#include "libs/mail/mailer.hpp"
#include "services/notification/domain/notification.hpp"
#include "services/notification/domain/retry.hpp"
#include "services/notification/probe.hpp"
#include "services/notification/repository/notification_repository.hpp"

namespace orderflow::notification::consumers {

// Handles one record of order-events: decode, decide, send, record. Thread-safe: a
// batch's records of different orders may be handled at the same time (never two of one order). Returning means "done, store the offset"; throwing means "try this record again".
//   OrderConfirmed / OrderFailed -> one email to customerEmail, recorded
//   other event types            -> skipped
//   malformed / unknown schema   -> the DLQ (reason = decode error code)
//   mail failure after retries   -> the DLQ (reason = mail error code, e.g. smtp-unavailable)
class OrderOutcomeConsumer final {
 public:
  // Produces a DLQ record and waits for the broker's acknowledgement.
  using DlqSender = std::function<Status(kafka::Record)>;
  // Waits a back-off; false when the service is stopping.
  using Sleeper = std::function<bool(std::chrono::milliseconds)>;
  using Clock = std::function<std::int64_t()>;  // epoch ms

  struct Options final {
    std::string consumer_group = "notification-service";
    std::string dlq_topic = "notification-service.dlq";
    std::string from = "orderflow@localhost";
    domain::RetryPolicy retry;
  };

  OrderOutcomeConsumer(repository::NotificationRepository& repo, mail::Mailer& mailer,
                       DlqSender dlq, Sleeper sleep, Clock clock, Probe& probe, Options options);

  void handle(const kafka::Record& record);
  // A wave of a poll batch (distinct orders): each record decided and its email sent as
  // handle() does (spread over `pool`'s threads when given), then every sent email recorded
  // in ONE transaction. Throwing means "try the wave again": emails already sent are
  // remembered and recorded then, not sent twice.
  void handle_batch(std::span<const kafka::Delivery> wave, WorkPool* pool = nullptr);

 private:
  // Decides the record and sends its email; the notification to record, or nullopt when
  // there is nothing to record (skipped, duplicate, sent to the DLQ).
  std::optional<repository::Notification> send_for(const kafka::Record& record);
  void to_dlq(const kafka::Record& record, const Error& error, int attempts,
              std::int64_t first_failure_ms, const std::string& correlation_id,
              const std::string& trace_id);

  repository::NotificationRepository& repo_;
  mail::Mailer& mailer_;
  DlqSender dlq_;
  Sleeper sleep_;
  Clock clock_;
  Probe& probe_;
  Options options_;
  std::string sender_domain_;
  using SentKey = std::pair<std::string, domain::Outcome>;
  std::optional<repository::Notification> sent_not_recorded(const SentKey& key) const;
  void remember_sent(const SentKey& key, const repository::Notification& sent);
  void forget_sent(const SentKey& key);

  // Emails sent whose record failed to be written (the database hiccuped): when the record
  // comes back, it is recorded without a second email.
  mutable std::mutex sent_mu_;
  std::map<SentKey, repository::Notification> sent_not_recorded_;
};

}  // namespace orderflow::notification::consumers
