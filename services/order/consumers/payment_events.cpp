#include "services/order/consumers/payment_events.hpp"

#include "libs/common/time.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"
#include "libs/kafka/dlq.hpp"
#include "libs/observability/log.hpp"

namespace orderflow::order {

PaymentEventsConsumer::PaymentEventsConsumer(OrderRepository& repo, kafka::Producer& producer, Probe& probe,
                                             std::string group, std::function<void()> on_committed)
    : repo_(repo), producer_(producer), probe_(probe), group_(std::move(group)), on_committed_(std::move(on_committed)) {}

void PaymentEventsConsumer::dead_letter(const kafka::Record& record, const std::string& reason,
                                        const std::string& message) {
  auto now = now_iso8601();
  auto dlq = kafka::make_dlq_record(record, kafka::dlq_topic("order-service"), {group_, reason, message, 1, now, now});
  auto s = producer_.send_sync(std::move(dlq));
  if (!s) throw std::runtime_error("DLQ publish failed: " + s.error().message);  // retried by the loop
  probe_.payment_event("dlq");
  log::warn("payment event sent to DLQ", {{"orderId", record.key}, {"reason", reason}, {"error", message}});
}

void PaymentEventsConsumer::handle(const kafka::Record& record) {
  auto decoded = events::decode(record);
  if (!decoded) return dead_letter(record, decoded.error().code, decoded.error().message);
  const auto& ce = decoded->ce;
  bool success = ce.type == events::PaymentResult::kSuccess;
  if (!success && ce.type != events::PaymentResult::kFailed) {
    probe_.payment_event("skipped");
    return;  // another event type on the topic: not ours to act on
  }
  auto payment = events::parse_payment_result(decoded->payload, success);
  if (!payment) return dead_letter(record, payment.error().code, payment.error().message);

  PaymentUpdate update{ce.id, payment->order_id, success, payment->reason, now_iso8601()};
  auto trace = trace::current_or_continue(ce.traceparent);  // the ConsumerLoop's span
  auto outcome = repo_.apply_payment(update, [&](const OrderRow& order) {
    events::OrderOutcome out{order.order_id, order.customer_id, order.customer_email, order.currency,
                             order.total_amount, update.at, success, payment->charge_id, payment->reason};
    auto event = events::CloudEvent::make(success ? events::OrderOutcome::kConfirmed : events::OrderOutcome::kFailed,
                                          "order-service", order.correlation_id, trace);
    return events::encode(events::kOrderEvents, order.order_id, event, events::to_json(out));
  });
  switch (outcome.kind) {
    case ApplyOutcome::Kind::kApplied:
    case ApplyOutcome::Kind::kRecovered:
      on_committed_();
      probe_.order_entered(outcome.order->status);
      probe_.payment_event("applied");
      log::info(outcome.kind == ApplyOutcome::Kind::kRecovered ? "order recovered after a DLQ replay"
                                                               : "order status changed",
                {{"orderId", update.order_id}, {"status", outcome.order->status},
                                         {"reason", update.reason}, {"correlationId", ce.correlation_id},
                                         {"traceId", trace.trace_id}});
      break;
    case ApplyOutcome::Kind::kDuplicate:
    case ApplyOutcome::Kind::kAlreadyFinal: probe_.payment_event("duplicate"); break;
    case ApplyOutcome::Kind::kConflict:
      probe_.payment_event("conflict");
      log::error("payment outcome contradicts the order's final status; order left unchanged",
                 {{"orderId", update.order_id}, {"eventId", ce.id}, {"correlationId", ce.correlation_id}});
      break;
    case ApplyOutcome::Kind::kUnknownOrder:
      dead_letter(record, "unknown-order", "no order with id '" + update.order_id + "'");
      break;
  }
}

}  // namespace orderflow::order
