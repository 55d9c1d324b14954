#pragma once

#include <optional>
#include <string>

namespace orderflow::console::domain {

// What the console knows about one DLQ record a replay would publish, and about its order.
struct ReplayCandidate final {
  std::string dlq_topic;       // e.g. payment-service.dlq
  std::string original_topic;  // dlq-original-topic: where the replay publishes it
  std::string event_type;      // ce_type of the record (OrderCreated, ...)
  std::string dlq_reason;      // dlq-reason
  bool already_replayed = false;
  std::optional<std::string> order_status;    // PENDING | CONFIRMED | FAILED; nullopt: unknown
  std::optional<std::string> failure_reason;  // when FAILED
};

// The console's prediction for one record, from the services' documented replay rules
// (services/payment/README.md "After an outage", services/alerting/README.md).
struct ReplayPrediction final {
  std::string goes_to;         // the topic the record is published to ("" when skipped)
  bool order_can_change = false;
  // skipped | no-change | may-confirm | redeliver
  std::string outcome;
  std::string says;            // one sentence for the operator
};

ReplayPrediction predict_replay(const ReplayCandidate& c);

}  // namespace orderflow::console::domain
