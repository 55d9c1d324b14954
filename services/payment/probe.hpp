#pragma once

#include "libs/observability/metrics.hpp"
#include "services/payment/domain/circuit_breaker.hpp"

namespace orderflow::payment {

// Every metric payment-service exposes beyond the HTTP server's own.
class Probe final {
 public:
  explicit Probe(metrics::Registry& r)
      : payments_(r.counter("payments_total", "Payment outcomes", {"outcome"})),
        gateway_latency_(r.histogram("payment_gateway_request_seconds", "Gateway charge call latency", {"result"})),
        dlq_(r.counter("dlq_messages_total", "Records sent to a DLQ", {"topic", "reason"})),
        retries_(r.counter("payment_gateway_retries_total", "In-process charge retries").with({})),
        retry_scheduled_(r.counter("payment_retries_scheduled_total",
                                   "Orders sent to payment-service.retry for a delayed retry").with({})),
        registry_(r) {}

  // circuit_breaker_state: 0 closed, 1 open, 2 half-open.
  void watch(const CircuitBreaker& breaker) {
    registry_.callback_gauge("circuit_breaker_state", "Gateway circuit breaker: 0 closed, 1 open, 2 half-open",
                             [&breaker] { return static_cast<double>(breaker.state(CircuitBreaker::Clock::now())); });
  }
  void retry_scheduled() { retry_scheduled_.inc(); }

  void payment(std::string_view outcome) { payments_.with({std::string(outcome)}).inc(); }
  void gateway_call(std::string_view result, double seconds) {
    gateway_latency_.with({std::string(result)}).observe(seconds);
  }
  void dead_lettered(const std::string& topic, const std::string& reason) { dlq_.with({topic, reason}).inc(); }
  void retry() { retries_.inc(); }

 private:
  metrics::Family<metrics::Counter>& payments_;
  metrics::Family<metrics::Histogram>& gateway_latency_;
  metrics::Family<metrics::Counter>& dlq_;
  metrics::Counter& retries_;
  metrics::Counter& retry_scheduled_;
  metrics::Registry& registry_;
};

}  // namespace orderflow::payment
