#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <string>

#include "libs/common/result.hpp"
#include "libs/http/client.hpp"
#include "libs/kafka/producer.hpp"
#include "libs/kafka/record.hpp"
#include "services/payment/domain/charge.hpp"
#include "services/payment/probe.hpp"
#include "services/payment/repository/payment_repository.hpp"

namespace orderflow::payment {

struct ChargePolicy final {
  std::chrono::milliseconds timeout{2000};  // per gateway call
  int attempts = 3;                         // in-process tries before giving up
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{2000};
  bool dlq_on_decline = false;              // ORDERFLOW_DLQ_ON_DECLINE (the original's behaviour)
};

// Consumes order-events. For each OrderCreated: charge the gateway (Idempotency-Key =
// orderId), decide the outcome, store it, publish it, and only then let the loop store the
// offset. Other event types are not ours. Undecodable records go to payment-service.dlq.
class OrderEventsConsumer final {
 public:
  using Charger = std::function<Result<http::Response>(http::Request)>;

  OrderEventsConsumer(PaymentRepository& repo, kafka::Producer& producer, Probe& probe, Charger charger,
                      ChargePolicy policy, std::string group);
  void handle(const kafka::Record& record);
  // Wakes a back-off wait early (shutdown).
  std::function<bool(std::chrono::milliseconds)> sleeper;  // returns false when stopping

 private:
  ChargeOutcome charge(const std::string& order_id, const std::string& amount, const std::string& currency,
                       const std::string& token, const std::string& traceparent, const std::string& correlation_id,
                       int& attempts);
  void publish(PaymentRow row);
  void dead_letter_only(const kafka::Record& record, const std::string& reason, const std::string& message);

  PaymentRepository& repo_;
  kafka::Producer& producer_;
  Probe& probe_;
  Charger charger_;
  ChargePolicy policy_;
  std::string group_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace orderflow::payment
