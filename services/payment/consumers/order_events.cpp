#include "services/payment/consumers/order_events.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "libs/common/time.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"
#include "libs/kafka/dlq.hpp"
#include "libs/observability/log.hpp"
#include "services/payment/domain/replay.hpp"

namespace orderflow::payment {
namespace {

const std::string kDlqTopic = kafka::dlq_topic("payment-service");

// Per thread: a consumer's records released from key parking run on whichever consumer
// thread resolved the key, so one handler may be called from two threads.
std::mt19937_64& rng() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator;
}

http::Request gateway_request(http::Verb verb, std::string target, const std::string& traceparent,
                              const std::string& correlation_id) {
  http::Request req{verb, target, 11};
  req.set("traceparent", traceparent);
  req.set(http::kCorrelationHeader, correlation_id);
  return req;
}

}  // namespace

OrderEventsConsumer::OrderEventsConsumer(PaymentRepository& repo, kafka::Producer& producer, Probe& probe,
                                         Gateway gateway, CircuitBreaker& breaker, ChargePolicy policy,
                                         std::string group, Sleeper sleeper)
    : repo_(repo), producer_(producer), probe_(probe), gateway_(std::move(gateway)), breaker_(breaker),
      policy_(policy), group_(std::move(group)), sleeper_(std::move(sleeper)) {}

void OrderEventsConsumer::dead_letter_only(const kafka::Record& record, const std::string& reason,
                                           const std::string& message) {
  auto now = now_iso8601();
  auto s = producer_.send_sync(kafka::make_dlq_record(original_of(record), kDlqTopic, {group_, reason, message, 1, now, now}));
  if (!s) throw std::runtime_error("DLQ publish failed: " + s.error().message);
  probe_.dead_lettered(kDlqTopic, reason);
  log::warn("record sent to DLQ", {{"orderId", record.key}, {"reason", reason}, {"error", message}});
}

std::optional<std::string> OrderEventsConsumer::find_succeeded_charge(const ChargeRequest& r) {
  auto res = gateway_(gateway_request(http::Verb::get, "/v1/charges?orderId=" + r.order_id, r.traceparent, r.correlation_id));
  if (!res || res->result_int() != 200) return std::nullopt;
  boost::system::error_code ec;
  auto body = boost::json::parse(res->body(), ec);
  if (ec || !body.is_object() || !body.as_object().contains("data") || !body.at("data").is_array()) return std::nullopt;
  for (const auto& c : body.at("data").as_array()) {
    if (!c.is_object()) continue;
    const auto& o = c.as_object();
    auto str = [&](const char* k) {
      const auto* v = o.if_contains(k);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (str("status") == "succeeded" && str("idempotencyKey") == r.order_id) return str("id");
  }
  return std::nullopt;
}

http::Request OrderEventsConsumer::charge_request(const ChargeRequest& r) {
  auto req = gateway_request(http::Verb::post, "/v1/charges", r.traceparent, r.correlation_id);
  req.set(http::bhttp::field::content_type, "application/json");
  req.set("Idempotency-Key", r.order_id);
  req.body() = boost::json::serialize(
      boost::json::object{{"orderId", r.order_id}, {"amount", r.amount}, {"currency", r.currency}, {"source", r.token}});
  return req;
}

ChargeOutcome OrderEventsConsumer::charge(const ChargeRequest& r, int& calls, std::optional<Result<http::Response>> first) {
  ChargeOutcome last;
  for (int attempt = 1;; ++attempt) {
    // The first attempt may have been made already (a batch's asynchronous call).
    const bool made = attempt == 1 && first.has_value();
    if (!made && !breaker_.allow(CircuitBreaker::Clock::now())) {
      probe_.gateway_call("circuit-open", 0);
      return ChargeOutcome{ChargeKind::kTransient, {}, "circuit-open", "circuit breaker open: gateway calls are shed"};
    }
    ++calls;
    auto res = made ? std::move(*first) : call_gateway(charge_request(r));
    last = res ? classify_response(res->result_int(), res->body())
               : classify_transport_error(res.error().code, res.error().message);
    if (last.kind != ChargeKind::kTransient) {
      breaker_.on_success();  // the gateway answered: a decline is a healthy gateway
      return last;
    }
    breaker_.on_failure(CircuitBreaker::Clock::now());
    if (!res && res.error().code != "connect-failed") {
      // The request may have reached the gateway: ask what happened before trying again.
      if (auto charge_id = find_succeeded_charge(r)) {
        log::info("unknown charge outcome reconciled: charged", {{"orderId", r.order_id}, {"chargeId", *charge_id}});
        return ChargeOutcome{ChargeKind::kSucceeded, *charge_id, {}, {}};
      }
    }
    if (attempt >= policy_.attempts) return last;
    auto wait = backoff(attempt - 1, policy_.backoff_base, policy_.backoff_cap, rng());
    log::info("gateway call failed; retrying", {{"orderId", r.order_id}, {"correlationId", r.correlation_id},
                                                {"attempt", std::to_string(attempt)}, {"error", last.message}});
    probe_.retry();
    if (!sleeper_(wait)) throw std::runtime_error("stopping during charge retries");  // redelivered after restart
  }
}

Result<http::Response> OrderEventsConsumer::call_gateway(http::Request req) {
  auto started = std::chrono::steady_clock::now();
  auto res = gateway_(std::move(req));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  probe_.gateway_call(res ? std::to_string(res->result_int()) : res.error().code, secs);
  return res;
}

void OrderEventsConsumer::wait_until(std::int64_t not_before_ms) {
  auto wait = not_before_ms - now_epoch_ms();
  if (wait > 0 && !sleeper_(std::chrono::milliseconds(wait))) {
    throw std::runtime_error("stopping while a retry waits");  // not stored: redelivered after restart
  }
}

void OrderEventsConsumer::publish(PaymentRow row) {
  for (auto& r : row.records) {
    auto s = producer_.send_sync(r);
    if (!s) throw std::runtime_error("publish failed: " + s.error().message);  // retried; the row is kept
  }
  repo_.mark_published(row.order_id);
}

OrderEventsConsumer::Decision OrderEventsConsumer::decide(const kafka::Record& record, const events::CloudEvent& ce,
                                                          const events::OrderCreated& order, int round,
                                                          const std::string& first_failure, const ChargeOutcome& outcome,
                                                          const trace::Context& trace) const {
  Decision decision;
  auto& row = decision.row;
  auto& dlq_reason = decision.dlq_reason;
  row.order_id = order.order_id;
  row.event_id = ce.id;
  row.amount = order.total_amount;
  row.currency = order.currency;
  row.attempts = round;
  row.created_at = now_iso8601();
  events::PaymentResult result{order.order_id, order.total_amount, order.currency, row.created_at, false, "", ""};
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
    row.records.push_back(kafka::make_dlq_record(original_of(record), kDlqTopic,
                                                 {group_, dlq_reason, outcome.code + ": " + outcome.message, round,
                                                  first_failure, now_iso8601()}));
  }
  auto ce_out = events::CloudEvent::make(result.success ? events::PaymentResult::kSuccess : events::PaymentResult::kFailed,
                                         "payment-service", ce.correlation_id, trace);
  row.records.push_back(events::encode(events::kPaymentEvents, order.order_id, ce_out, events::to_json(result)));
  return decision;
}

void OrderEventsConsumer::announce_decided(const PaymentRow& row, const std::string& dlq_reason) {
  probe_.payment(row.status == "SUCCEEDED" ? "success" : row.status == "DECLINED" ? "declined" : "failed");
  if (!dlq_reason.empty()) probe_.dead_lettered(kDlqTopic, dlq_reason);
  if (parking_) {
    // Parked in the DLQ until an operator replays it: the order's later records wait too.
    // Any other outcome is final: release what waited behind the order's retries.
    if (dlq_reason == "gateway-unavailable") {
      parking_->block(row.order_id, "dlq");
    } else {
      parking_->resolve(row.order_id);
    }
  }
}

void OrderEventsConsumer::handle(const kafka::Record& record) { handle_record(record, std::nullopt); }

void OrderEventsConsumer::handle_record(const kafka::Record& record, std::optional<Result<http::Response>> first) {
  auto decoded = events::decode(record);
  if (!decoded) return dead_letter_only(record, decoded.error().code, decoded.error().message);
  const auto& ce = decoded->ce;
  if (ce.type != events::OrderCreated::kType) return;  // OrderConfirmed/OrderFailed are not ours
  auto order = events::parse_order_created(decoded->payload);
  if (!order) return dead_letter_only(record, order.error().code, order.error().message);

  // A DLQ replay (and its retry copies) is named by ce_id + where it was replayed from.
  const auto replayed_from = record.header(kafka::kReplayedFromHeader);
  const std::string replay = replayed_from ? replay_key(ce.id, *replayed_from) : std::string();
  bool replay_attempt = false;  // replaces a stored gateway-unavailable failure
  if (auto existing = repo_.find(order->order_id)) {
    // Decided before (a redelivery, a retry copy, or a crash before publishing): announce the
    // same records again if needed, never charge again. The exception: an operator replayed
    // the DLQ record of an order that failed because the gateway was unreachable.
    const bool settled = !replay_is_new_attempt(existing->status, existing->reason);  // not parked in the DLQ
    replay_attempt = !replay.empty() && !settled && !repo_.replay_seen(replay);
    if (!existing->published) publish(std::move(*existing));
    if (!replay_attempt) {
      log::info("duplicate OrderCreated ignored", {{"orderId", order->order_id}, {"correlationId", ce.correlation_id}});
      // Decided for good (not parked in the DLQ): records of the order waiting behind an
      // earlier delivery of it can go on (a no-op when none wait).
      if (parking_ && settled) parking_->resolve(order->order_id);
      return;
    }
    log::info("DLQ replay of a gateway-unavailable order: charging again",
              {{"orderId", order->order_id}, {"replayedFrom", *replayed_from}, {"correlationId", ce.correlation_id}});
  }

  auto retry = read_retry_state(record);
  wait_until(retry.not_before_ms);
  auto trace = trace::current_or_continue(ce.traceparent);  // the ConsumerLoop's span
  ChargeRequest req{order->order_id, order->total_amount, order->currency, order->payment_token,
                    trace.traceparent(), ce.correlation_id};
  int calls = 0;
  ChargeOutcome outcome;
  if (auto charge_id = replay_attempt ? find_succeeded_charge(req) : std::nullopt) {
    // A replay asks the gateway first: an earlier try may have charged after all.
    log::info("replayed order already charged at the gateway", {{"orderId", order->order_id}, {"chargeId", *charge_id}});
    outcome = ChargeOutcome{ChargeKind::kSucceeded, *charge_id, {}, {}};
  } else {
    outcome = charge(req, calls, std::move(first));
  }
  auto first_failure = retry.first_failure_time.empty() ? now_iso8601() : retry.first_failure_time;

  if (outcome.kind == ChargeKind::kTransient && retry.attempt < policy_.retry.rounds) {
    int next = retry.attempt + 1;
    auto delay = retry_delay(policy_.retry, next, rng());
    auto copy = make_retry_record(record, events::kPaymentRetry, next, now_epoch_ms() + delay.count(), first_failure,
                                  outcome.code + ": " + outcome.message);
    auto s = producer_.send_sync(std::move(copy));
    if (!s) throw std::runtime_error("retry publish failed: " + s.error().message);
    probe_.retry_scheduled();
    if (parking_) parking_->block(order->order_id, "retry");
    log::warn("charge failed; scheduled a retry", {{"orderId", order->order_id}, {"correlationId", ce.correlation_id},
                                                   {"attempt", std::to_string(next)},
                                                   {"delayMs", std::to_string(delay.count())}, {"error", outcome.message},
                                                   {"traceId", trace.trace_id}});
    return;
  }

  auto [row, dlq_reason] = decide(record, ce, *order, retry.attempt, first_failure, outcome, trace);
  if (!(replay_attempt ? repo_.record_replay(row, replay) : repo_.record(row))) {
    // Another delivery of the same order decided first (a rebalance mid-charge): theirs stands.
    log::warn("payment already recorded by another consumer", {{"orderId", order->order_id}});
    return;
  }
  publish(row);
  announce_decided(row, dlq_reason);
  log::info("payment decided", {{"orderId", order->order_id}, {"status", row.status}, {"reason", row.reason},
                                {"round", std::to_string(retry.attempt)}, {"calls", std::to_string(calls)},
                                {"replayedFrom", replayed_from.value_or("")},
                                {"correlationId", ce.correlation_id}, {"traceId", trace.trace_id}});
}

void OrderEventsConsumer::Round::wait() {
  std::unique_lock lock(mu);
  all_done.wait(lock, [&] { return answered == charges.size(); });
}

void OrderEventsConsumer::launch(const std::shared_ptr<Round>& round, std::size_t i) {
  const auto started = std::chrono::steady_clock::now();
  async_gateway_(charge_request(round->charges[i].req), [this, round, i, started](Result<http::Response> res) {
    auto& c = round->charges[i];
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    c.response = std::move(res);
    // The window's next call (of this round or a later one) goes out from here.
    std::function<void()> next;
    {
      std::lock_guard lock(window_mu_);
      if (waiting_.empty()) {
        --in_flight_;
      } else {
        next = std::move(waiting_.front());
        waiting_.pop_front();
      }
    }
    {
      std::lock_guard lock(round->mu);
      if (++round->answered == round->charges.size()) round->all_done.notify_one();
    }
    if (next) next();
  });
}

void OrderEventsConsumer::charge_all(const std::shared_ptr<Round>& round) {
  const std::size_t window = std::max<std::size_t>(1, policy_.max_in_flight);
  for (std::size_t i = 0; i < round->charges.size(); ++i) {
    {
      std::lock_guard lock(window_mu_);
      if (in_flight_ >= window) {
        waiting_.push_back([this, round, i] { launch(round, i); });
        continue;
      }
      ++in_flight_;
    }
    launch(round, i);
  }
}

void OrderEventsConsumer::handle_batch(std::span<const kafka::Delivery> wave, WorkPool* pool) {
  start_batch(wave, pool)();
}

std::function<void()> OrderEventsConsumer::start_batch(std::span<const kafka::Delivery> wave, WorkPool* pool) {
  auto round = std::make_shared<Round>();
  auto& charges = round->charges;
  auto& one_by_one = round->one_by_one;
  for (const auto& d : wave) {
    const auto& record = *d.record;
    // DLQ replays, keys held behind a retry or the DLQ, undecodable records, retry copies
    // and orders decided before (a redelivery): the per-record path, which knows them all.
    if (!async_gateway_ || record.header(kafka::kReplayedFromHeader) || (parking_ && parking_->may_hold(record.key))) {
      one_by_one.push_back({&d, std::nullopt});
      continue;
    }
    auto decoded = events::decode(record);
    if (decoded && decoded->ce.type != events::OrderCreated::kType) continue;  // not ours
    auto order = decoded ? events::parse_order_created(decoded->payload) : Result<events::OrderCreated>(decoded.error());
    if (!order || read_retry_state(record).attempt != 1 || repo_.find(order->order_id) ||
        !breaker_.allow(CircuitBreaker::Clock::now())) {
      one_by_one.push_back({&d, std::nullopt});
      continue;
    }
    ChargeRequest req{order->order_id, order->total_amount, order->currency, order->payment_token,
                      d.context.traceparent(), decoded->ce.correlation_id};
    charges.push_back({&d, std::move(decoded->ce), std::move(*order), std::move(req), std::nullopt, 0});
  }
  // Every charge at once on the event loop (the answers are counted there); the rest when
  // the caller finishes the wave.
  charge_all(round);
  return [this, pool, round] { finish_batch(*round, pool); };
}

void OrderEventsConsumer::finish_batch(Round& round, WorkPool* pool) {
  round.wait();
  auto& charges = round.charges;
  auto& one_by_one = round.one_by_one;
  // The decided ones in one transaction, their records produced together, their flags set
  // in one (deferred) transaction.
  std::vector<PaymentRow> rows;
  std::vector<std::string> dlq_reasons;
  std::vector<const BatchCharge*> decided;
  const auto first_failure = now_iso8601();
  for (auto& c : charges) {
    auto& res = *c.response;
    probe_.gateway_call(res ? std::to_string(res->result_int()) : res.error().code, c.seconds);
    auto outcome = res ? classify_response(res->result_int(), res->body())
                       : classify_transport_error(res.error().code, res.error().message);
    if (outcome.kind == ChargeKind::kTransient) {
      // In-process retries, reconciliation, the retry topic: the per-record path, which
      // counts this answer as its first attempt.
      one_by_one.push_back({c.delivery, std::move(c.response)});
      continue;
    }
    breaker_.on_success();
    // A first delivery (round 1): records of a later round come from the retry topic's consumer.
    auto decision = decide(*c.delivery->record, c.ce, c.order, 1, first_failure, outcome, c.delivery->context);
    rows.push_back(std::move(decision.row));
    dlq_reasons.push_back(std::move(decision.dlq_reason));
    decided.push_back(&c);
  }
  if (!rows.empty()) {
    const auto inserted = repo_.record_all(rows);
    std::vector<kafka::Record> records;
    std::vector<std::string> published;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (!inserted[i]) continue;
      for (const auto& r : rows[i].records) records.push_back(r);
      published.push_back(rows[i].order_id);
    }
    // Not acknowledged: the wave is tried again, finds the rows and publishes them then.
    if (auto s = producer_.send_all(std::move(records)); !s) throw std::runtime_error("publish failed: " + s.error().message);
    repo_.mark_published_all(published);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& c = *decided[i];
      if (!inserted[i]) {
        // Another delivery of the same order decided first (a rebalance mid-charge): theirs stands.
        log::warn("payment already recorded by another consumer", {{"orderId", rows[i].order_id}});
        continue;
      }
      announce_decided(rows[i], dlq_reasons[i]);
      log::info("payment decided", {{"orderId", rows[i].order_id}, {"status", rows[i].status},
                                    {"reason", rows[i].reason}, {"round", "1"}, {"calls", "1"},
                                    {"replayedFrom", ""}, {"correlationId", c.ce.correlation_id},
                                    {"traceId", c.delivery->context.trace_id}});
    }
  }

  const auto one = [&](std::size_t i) {
    auto& item = one_by_one[i];
    trace::ScopedContext scope(item.delivery->context);
    if (item.first) {
      handle_record(*item.delivery->record, std::move(item.first));
    } else if (parking_) {
      parking_->handle(*item.delivery->record);
    } else {
      handle(*item.delivery->record);
    }
  };
  if (pool != nullptr) {
    pool->for_each(one_by_one.size(), one);
  } else {
    for (std::size_t i = 0; i < one_by_one.size(); ++i) one(i);
  }
}

}  // namespace orderflow::payment
