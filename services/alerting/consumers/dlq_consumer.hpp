#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "libs/kafka/record.hpp"
#include "libs/mail/mailer.hpp"
#include "services/alerting/clients/webhook.hpp"
#include "services/alerting/domain/alert.hpp"
#include "services/alerting/probe.hpp"
#include "services/alerting/repository/alert_repository.hpp"

namespace orderflow::alerting::consumers {

// The alert view of a DLQ record: key, position and the dlq-* / ce_* headers.
domain::DlqEntry to_entry(const kafka::Record& record);

// Handles one record of any "*.dlq" topic (on the ConsumerLoop's thread): store the alert
// (once per topic/partition/offset), count it in its (topic, reason, window) group, and
// when the group's plan says so send the alert email and the webhook. A failed email or
// webhook is logged, counted and shown in the API; it never holds the consumer up for
// longer than one bounded attempt per record, and never sends a record anywhere (this
// service has no DLQ of its own: its own failures would feed straight back into it).
// A database error, or a stop in the middle of a send, throws: the ConsumerLoop hands the
// record back (after a restart it is redelivered, not counted twice, and its group's
// pending email goes out then).
class DlqConsumer final {
 public:
  using Clock = std::function<std::int64_t()>;  // epoch ms

  struct Options final {
    std::string email_to = "ops@orderflow.local";
    std::string from = "orderflow@localhost";
    std::chrono::milliseconds window{60'000};
    std::chrono::milliseconds retry_interval{30'000};
    domain::Links links;
  };

  // `webhook` may be null (no webhook configured).
  DlqConsumer(repository::AlertRepository& repo, mail::Mailer& mailer, clients::Webhook* webhook,
              Clock clock, Probe& probe, Options options);

  void handle(const kafka::Record& record);

 private:
  repository::AlertRepository& repo_;
  mail::Mailer& mailer_;
  clients::Webhook* webhook_;
  Clock clock_;
  Probe& probe_;
  Options options_;
};

}  // namespace orderflow::alerting::consumers
