#include "services/payment/consumers/order_events.hpp"

#include <boost/json/serialize.hpp>
#include <thread>

#include "libs/common/time.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"
#include "libs/kafka/dlq.hpp"
#include "libs/observability/log.hpp"

namespace orderflow::payment {
namespace {

const std::string kDlqTopic = kafka::dlq_topic("payment-service");

}  // namespace

OrderEventsConsumer::OrderEventsConsumer(PaymentRepository& repo, kafka::Producer& producer, Probe& probe,
                                         Charger charger, ChargePolicy policy, std::string group)
    : repo_(repo), producer_(producer), probe_(probe), charger_(std::move(charger)), policy_(policy),
      group_(std::move(group)) {
  sleeper = [](std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
    return true;
  };
}

void OrderEventsConsumer::dead_letter_only(const kafka::Record& record, const std::string& reason,
                                           const std::string& message) {
  auto now = now_iso8601();
  auto s = producer_.send_sync(kafka::make_dlq_record(record, kDlqTopic, {group_, reason, message, 1, now, now}));
  if (!s) throw std::runtime_error("DLQ publish failed: " + s.error().message);
  probe_.dead_lettered(kDlqTopic, reason);
  log::warn("record sent to DLQ", {{"orderId", record.key}, {"reason", reason}, {"error", message}});
}

ChargeOutcome OrderEventsConsumer::charge(const std::string& order_id, const std::string& amount,
                                          const std::string& currency, const std::string& token,
                                          const std::string& traceparent, const std::string& correlation_id,
                                          int& attempts) {
  ChargeOutcome last;
  for (attempts = 1;; ++attempts) {
    http::Request req{http::Verb::post, "/v1/charges", 11};
    req.set(http::bhttp::field::content_type, "application/json");
    req.set("Idempotency-Key", order_id);
    req.set("traceparent", traceparent);
    req.set(http::kCorrelationHeader, correlation_id);
    req.body() = boost::json::serialize(
        boost::json::object{{"orderId", order_id}, {"amount", amount}, {"currency", currency}, {"source", token}});
    auto started = std::chrono::steady_clock::now();
    auto res = charger_(std::move(req));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    last = res ? classify_response(res->result_int(), res->body())
               : classify_transport_error(res.error().code, res.error().message);
    probe_.gateway_call(res ? std::to_string(res->result_int()) : res.error().code, secs);
    if (last.kind != ChargeKind::kTransient || attempts >= policy_.attempts) return last;
    auto wait = backoff(attempts - 1, policy_.backoff_base, policy_.backoff_cap, rng_);
    log::info("gateway call failed; retrying", {{"orderId", order_id}, {"correlationId", correlation_id},
                                                {"attempt", std::to_string(attempts)}, {"error", last.message}});
    probe_.retry();
    if (!sleeper(wait)) throw std::runtime_error("stopping during charge retries");  // redelivered after restart
  }
}

void OrderEventsConsumer::publish(PaymentRow row) {
  for (auto& r : row.records) {
    auto s = producer_.send_sync(r);
    if (!s) throw std::runtime_error("publish failed: " + s.error().message);  // retried; the row is kept
  }
  repo_.mark_published(row.order_id);
}

void OrderEventsConsumer::handle(const kafka::Record& record) {
  auto decoded = events::decode(record);
  if (!decoded) return dead_letter_only(record, decoded.error().code, decoded.error().message);
  const auto& ce = decoded->ce;
  if (ce.type != events::OrderCreated::kType) return;  // OrderConfirmed/OrderFailed are not ours
  auto order = events::parse_order_created(decoded->payload);
  if (!order) return dead_letter_only(record, order.error().code, order.error().message);

  if (auto existing = repo_.find(order->order_id)) {
    // Decided before (a redelivery, or a crash before publishing): announce the same
    // records again, never charge again.
    if (!existing->published) publish(std::move(*existing));
    log::info("duplicate OrderCreated ignored", {{"orderId", order->order_id}, {"correlationId", ce.correlation_id}});
    return;
  }

  auto trace = trace::Context::continue_or_start(ce.traceparent);
  auto first_failure = now_iso8601();
  int attempts = 0;
  auto outcome = charge(order->order_id, order->total_amount, order->currency, order->payment_token,
                        trace.traceparent(), ce.correlation_id, attempts);

  PaymentRow row;
  row.order_id = order->order_id;
  row.event_id = ce.id;
  row.amount = order->total_amount;
  row.currency = order->currency;
  row.attempts = attempts;
  row.created_at = now_iso8601();
  events::PaymentResult result{order->order_id, order->total_amount, order->currency, row.created_at, false, "", ""};
  std::string dlq_reason;
  switch (outcome.kind) {
    case ChargeKind::kSucceeded:
      row.status = "SUCCEEDED";
      row.charge_id = result.charge_id = outcome.charge_id;
      result.success = true;
      break;
    case ChargeKind::kDeclined:
      row.status = "DECLINED";
      row.reason = result.reason = outcome.code;
      if (policy_.dlq_on_decline) dlq_reason = "payment-declined";
      break;
    case ChargeKind::kTransient:
      row.status = "FAILED";
      row.reason = result.reason = kGatewayUnavailableReason;
      dlq_reason = "gateway-unavailable";
      break;
    case ChargeKind::kRejected:
      row.status = "FAILED";
      row.reason = result.reason = "payment-rejected";
      dlq_reason = "gateway-rejected";
      break;
  }
  if (!dlq_reason.empty()) {
    row.records.push_back(kafka::make_dlq_record(
        record, kDlqTopic, {group_, dlq_reason, outcome.code + ": " + outcome.message, attempts, first_failure, now_iso8601()}));
  }
  auto ce_out = events::CloudEvent::make(result.success ? events::PaymentResult::kSuccess : events::PaymentResult::kFailed,
                                         "payment-service", ce.correlation_id, trace);
  row.records.push_back(events::encode(events::kPaymentEvents, order->order_id, ce_out, events::to_json(result)));

  if (!repo_.record(row)) {
    // Another member of the group decided first (a rebalance mid-charge): theirs stands.
    log::warn("payment already recorded by another consumer", {{"orderId", order->order_id}});
    return;
  }
  publish(row);
  probe_.payment(row.status == "SUCCEEDED" ? "success" : row.status == "DECLINED" ? "declined" : "failed");
  if (!dlq_reason.empty()) probe_.dead_lettered(kDlqTopic, dlq_reason);
  log::info("payment decided", {{"orderId", order->order_id}, {"status", row.status}, {"reason", row.reason},
                                {"attempts", std::to_string(attempts)}, {"correlationId", ce.correlation_id},
                                {"traceId", trace.trace_id}});
}

}  // namespace orderflow::payment
