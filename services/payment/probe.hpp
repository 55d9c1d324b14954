#pragma once

#include "libs/observability/metrics.hpp"

namespace orderflow::payment {

// Every metric payment-service exposes beyond the HTTP server's own.
class Probe final {
 public:
  explicit Probe(metrics::Registry& r)
      : payments_(r.counter("payments_total", "Payment outcomes", {"outcome"})),
        gateway_latency_(r.histogram("payment_gateway_request_seconds", "Gateway charge call latency", {"result"})),
        dlq_(r.counter("dlq_messages_total", "Records sent to a DLQ", {"topic", "reason"})),
        retries_(r.counter("payment_gateway_retries_total", "In-process charge retries").with({})) {}

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
};

}  // namespace orderflow::payment
