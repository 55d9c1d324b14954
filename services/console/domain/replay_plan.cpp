#include "services/console/domain/replay_plan.hpp"

namespace orderflow::console::domain {

ReplayPrediction predict_replay(const ReplayCandidate& c) {
  ReplayPrediction p;
  if (c.already_replayed) {
    p.outcome = "skipped";
    p.says = "Already replayed once: skipped (a forced replay would publish it again).";
    return p;
  }
  p.goes_to = c.original_topic;
  if (c.original_topic.empty()) {
    p.outcome = "skipped";
    p.says = "No dlq-original-topic header: alerting-service cannot replay it.";
    return p;
  }
  if (!c.order_status) {
    p.outcome = "redeliver";
    p.says = "Re-published to " + c.original_topic +
             "; order-service does not know this order, so its consumers decide on the record alone.";
    return p;
  }
  const auto& status = *c.order_status;
  const bool payment_record = c.dlq_topic == "payment-service.dlq" && c.event_type == "OrderCreated";
  if (payment_record && status == "FAILED" && c.failure_reason == "payment-gateway-unavailable") {
    p.order_can_change = true;
    p.outcome = "may-confirm";
    p.says = "Re-published to " + c.original_topic +
             "; payment-service takes it as a new attempt (asks the gateway first, same "
             "Idempotency-Key, never a second charge): the order turns CONFIRMED if the gateway "
             "now accepts the charge; if it still fails, the record comes back to " +
             c.dlq_topic + " and the order stays FAILED.";
    return p;
  }
  p.outcome = "no-change";
  if (c.dlq_topic == "notification-service.dlq") {
    p.says = "Re-published to " + c.original_topic +
             "; notification-service sends the email it could not send (once: it is idempotent "
             "by ce_id); the order stays " + status + ".";
  } else if (status == "FAILED") {
    p.says = "Re-published to " + c.original_topic + "; the order FAILED with " +
             c.failure_reason.value_or("a final outcome") +
             ", which is final (a declined order never flips): nothing changes.";
  } else if (status == "CONFIRMED") {
    p.says = "Re-published to " + c.original_topic +
             "; the order is CONFIRMED already: consumers skip the duplicate, nothing changes.";
  } else {
    p.says = "Re-published to " + c.original_topic + "; the order is " + status +
             ": its consumers handle the copy idempotently (by ce_id), the order's course does not change.";
  }
  return p;
}

}  // namespace orderflow::console::domain
