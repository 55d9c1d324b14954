#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <vector>
#include <string>

#include "libs/common/result.hpp"
#include "libs/common/work_pool.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"
#include "libs/http/types.hpp"
#include "libs/kafka/batch_loop.hpp"
#include "libs/kafka/key_parking.hpp"
#include "libs/kafka/producer.hpp"
#include "libs/kafka/record.hpp"
#include "services/payment/domain/charge.hpp"
#include "services/payment/domain/circuit_breaker.hpp"
#include "services/payment/domain/retry.hpp"
#include "services/payment/probe.hpp"
#include "services/payment/repository/payment_repository.hpp"

namespace orderflow::payment {

struct ChargePolicy final {
  int attempts = 3;                         // in-process tries per delivery
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{2000};
  bool dlq_on_decline = false;              // ORDERFLOW_DLQ_ON_DECLINE (the original's behaviour)
  RetryPolicy retry;                        // rounds through payment-service.retry
  std::size_t max_in_flight = 512;          // a batch's gateway calls at once (gateway-max-in-flight)
};

// Consumes OrderCreated from order-events (and its delayed copies from
// payment-service.retry). For each: charge the gateway (Idempotency-Key = orderId), and
//   - a final answer (success, decline, rejection) is stored, published, then the offset
//     is stored;
//   - a transient failure after the in-process tries goes to the retry topic with a
//     not-before time, so the partition keeps flowing; after the last round it goes to
//     payment-service.dlq and PaymentFailed is published.
// A timeout or broken connection leaves the charge's fate unknown: the gateway is asked
// (by order id) before anything else is tried. Undecodable records go to the DLQ at once.
// Thread-safe: with key parking, records released behind a resolved key run on the
// consumer thread that resolved it, so one handler may be called from two threads.
class OrderEventsConsumer final {
 public:
  // Sends one request to the gateway (the composition root binds endpoint and deadline).
  using Gateway = std::function<Result<http::Response>(http::Request)>;
  // Waits up to d; false when the service is stopping.
  using Sleeper = std::function<bool(std::chrono::milliseconds)>;

  OrderEventsConsumer(PaymentRepository& repo, kafka::Producer& producer, Probe& probe, Gateway gateway,
                      CircuitBreaker& breaker, ChargePolicy policy, std::string group, Sleeper sleeper);
  void handle(const kafka::Record& record);
  // A wave of a poll batch (distinct orders). New OrderCreated records are charged all at
  // once through the asynchronous gateway (at most max_in_flight calls at once, on the HTTP client's
  // event loop: no thread per call), their final outcomes recorded in one transaction, their
  // records produced together and acknowledged before it returns. Everything else — a
  // transient answer (in-process retries, reconciliation, the retry topic), a DLQ replay, a
  // held key, an undecodable record, an order decided before — takes the per-record path of
  // handle(), spread over `pool`'s threads when given.
  void handle_batch(std::span<const kafka::Delivery> wave, WorkPool* pool = nullptr);
  // handle_batch in two halves (kafka::BatchConsumerLoop::Pipelined): sends the wave's
  // charges and returns at once; the function it returns waits for their answers and does
  // the rest. The deliveries must outlive that function's call.
  std::function<void()> start_batch(std::span<const kafka::Delivery> wave, WorkPool* pool = nullptr);
  // Sends one request to the gateway without waiting; `done` runs on an I/O thread. Without
  // it, handle_batch() takes the per-record path for every record.
  using AsyncGateway = std::function<void(http::Request, std::function<void(Result<http::Response>)>)>;
  void use_async_gateway(AsyncGateway gateway) { async_gateway_ = std::move(gateway); }
  // Per-key ordering: an order whose record goes to the retry topic or the DLQ blocks its
  // key at `parking` (later records of it wait there); a final decision resolves it.
  void use_parking(kafka::KeyParking& parking) { parking_ = &parking; }

 private:
  struct ChargeRequest {
    std::string order_id, amount, currency, token, traceparent, correlation_id;
  };
  // A batch's charge: the request and, once answered, the gateway's answer.
  struct BatchCharge {
    const kafka::Delivery* delivery;
    events::CloudEvent ce;
    events::OrderCreated order;
    ChargeRequest req;
    std::optional<Result<http::Response>> response;
    double seconds;
  };
  struct Decision {
    PaymentRow row;
    std::string dlq_reason;  // empty: no DLQ copy
  };
  void handle_record(const kafka::Record& record, std::optional<Result<http::Response>> first);
  static http::Request charge_request(const ChargeRequest& req);
  // The in-process attempts; `first`: attempt 1's answer when the call was already made.
  ChargeOutcome charge(const ChargeRequest& req, int& calls, std::optional<Result<http::Response>> first);
  Result<http::Response> call_gateway(http::Request req);
  // A wave's charges under way: answers counted as they come.
  // A record that takes the per-record path (handle_record), with the first gateway answer
  // when the batch already made that call.
  struct OneByOne {
    const kafka::Delivery* delivery;
    std::optional<Result<http::Response>> first;
  };
  struct Round {
    std::vector<BatchCharge> charges;
    std::vector<OneByOne> one_by_one;
    std::mutex mu;
    std::condition_variable all_done;
    std::size_t answered = 0;
    void wait();
  };
  // Sends every charge of the round, at most max_in_flight calls at once across rounds.
  void charge_all(const std::shared_ptr<Round>& round);
  void launch(const std::shared_ptr<Round>& round, std::size_t i);
  void finish_batch(Round& round, WorkPool* pool);
  // The row and records that announce a final outcome (and its DLQ copy, if any).
  Decision decide(const kafka::Record& record, const events::CloudEvent& ce, const events::OrderCreated& order,
                  int round, const std::string& first_failure, const ChargeOutcome& outcome,
                  const trace::Context& trace) const;
  // Metrics and key parking once a decision is published.
  void announce_decided(const PaymentRow& row, const std::string& dlq_reason);
  // Asks the gateway whether a charge for the order succeeded (after an unknown outcome).
  std::optional<std::string> find_succeeded_charge(const ChargeRequest& req);
  void publish(PaymentRow row);
  void dead_letter_only(const kafka::Record& record, const std::string& reason, const std::string& message);
  void wait_until(std::int64_t not_before_ms);

  PaymentRepository& repo_;
  kafka::Producer& producer_;
  Probe& probe_;
  Gateway gateway_;
  CircuitBreaker& breaker_;
  ChargePolicy policy_;
  std::string group_;
  Sleeper sleeper_;
  kafka::KeyParking* parking_ = nullptr;
  AsyncGateway async_gateway_;
  // The gateway window shared by the rounds under way: calls beyond max_in_flight wait here
  // and are sent as answers come.
  std::mutex window_mu_;
  std::size_t in_flight_ = 0;
  std::deque<std::function<void()>> waiting_;
};

}  // namespace orderflow::payment
