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

void PaymentEventsConsumer::handle_batch(std::span<const kafka::Delivery> wave) {
  struct Failure {
    const kafka::Record* record;
    std::string reason, message;
  };
  std::vector<Failure> dlq;
  std::vector<PaymentUpdate> updates;
  std::vector<const kafka::Delivery*> sources;  // per update
  std::vector<events::PaymentResult> payments;  // per update
  std::vector<std::string> correlation_ids;     // per update
  const auto at = now_iso8601();
  for (const auto& d : wave) {
    const auto& record = *d.record;
    auto decoded = events::decode(record);
    if (!decoded) {
      dlq.push_back({&record, decoded.error().code, decoded.error().message});
      continue;
    }
    const auto& ce = decoded->ce;
    bool success = ce.type == events::PaymentResult::kSuccess;
    if (!success && ce.type != events::PaymentResult::kFailed) {
      probe_.payment_event("skipped");
      continue;  // another event type on the topic: not ours to act on
    }
    auto payment = events::parse_payment_result(decoded->payload, success);
    if (!payment) {
      dlq.push_back({&record, payment.error().code, payment.error().message});
      continue;
    }
    updates.push_back(PaymentUpdate{ce.id, payment->order_id, success, payment->reason, at});
    sources.push_back(&d);
    correlation_ids.push_back(ce.correlation_id);
    payments.push_back(std::move(*payment));
  }

  auto outcomes = repo_.apply_payments(updates, [&](std::size_t i, const OrderRow& order) {
    const auto& u = updates[i];
    events::OrderOutcome out{order.order_id, order.customer_id, order.customer_email, order.currency,
                             order.total_amount, u.at, u.success, payments[i].charge_id, payments[i].reason};
    auto event = events::CloudEvent::make(u.success ? events::OrderOutcome::kConfirmed : events::OrderOutcome::kFailed,
                                          "order-service", order.correlation_id, sources[i]->context);
    return events::encode(events::kOrderEvents, order.order_id, event, events::to_json(out));
  });
  bool committed = false;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& outcome = outcomes[i];
    const auto& u = updates[i];
    switch (outcome.kind) {
      case ApplyOutcome::Kind::kApplied:
      case ApplyOutcome::Kind::kRecovered:
        committed = true;
        probe_.order_entered(outcome.order->status);
        probe_.payment_event("applied");
        log::info(outcome.kind == ApplyOutcome::Kind::kRecovered ? "order recovered after a DLQ replay"
                                                                 : "order status changed",
                  {{"orderId", u.order_id}, {"status", outcome.order->status}, {"reason", u.reason},
                   {"correlationId", correlation_ids[i]}, {"traceId", sources[i]->context.trace_id}});
        break;
      case ApplyOutcome::Kind::kDuplicate:
      case ApplyOutcome::Kind::kAlreadyFinal: probe_.payment_event("duplicate"); break;
      case ApplyOutcome::Kind::kConflict:
        probe_.payment_event("conflict");
        log::error("payment outcome contradicts the order's final status; order left unchanged",
                   {{"orderId", u.order_id}, {"eventId", u.event_id}, {"correlationId", correlation_ids[i]}});
        break;
      case ApplyOutcome::Kind::kUnknownOrder:
        dlq.push_back({sources[i]->record, "unknown-order", "no order with id '" + u.order_id + "'"});
        break;
    }
  }
  if (committed) on_committed_();
  if (dlq.empty()) return;

  std::vector<kafka::Record> records;
  for (const auto& f : dlq) {
    records.push_back(kafka::make_dlq_record(*f.record, kafka::dlq_topic("order-service"),
                                             {group_, f.reason, f.message, 1, at, at}));
  }
  auto s = producer_.send_all(std::move(records));
  if (!s) throw std::runtime_error("DLQ publish failed: " + s.error().message);  // the wave is retried
  for (const auto& f : dlq) {
    probe_.payment_event("dlq");
    log::warn("payment event sent to DLQ", {{"orderId", f.record->key}, {"reason", f.reason}, {"error", f.message}});
  }
}

}  // namespace orderflow::order
