#pragma once

#include <array>
#include <atomic>
#include <string_view>

#include "libs/observability/metrics.hpp"
#include "services/payment_gateway/domain/faults.hpp"

namespace orderflow::payment_gateway {

// Every metric of the payment gateway, in one place (Redpanda's probe habit).
//
//   gateway_charges_total{outcome}            processed charge calls: succeeded | declined | error
//                                             (error includes injected faults)
//   gateway_charge_seconds{outcome}           time to answer POST /v1/charges, by answer:
//                                             succeeded | declined | error | replayed | rejected
//   gateway_idempotent_replays_total          stored answers sent again for a known key
//   gateway_charge_rejections_total{reason}   4xx before processing: missing_idempotency_key,
//                                             malformed_body, invalid_body, idempotency_mismatch
//   gateway_faults_injected_total{kind}       outage | error | latency | reset
//   gateway_charges_in_flight                 charge calls being handled now
//   gateway_fault_error_rate, gateway_fault_latency_seconds, gateway_fault_outage
//                                             the current fault configuration
class Probe final {
 public:
  enum class Outcome { kSucceeded, kDeclined, kError };
  enum class Rejection { kMissingIdempotencyKey, kMalformedBody, kInvalidBody, kIdempotencyMismatch };
  enum class Fault { kOutage, kError, kLatency, kReset };

  Probe(metrics::Registry& registry, const FaultState& faults);
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // A charge call was processed (or failed by an injected fault) and answered.
  void charged(Outcome outcome, double seconds);
  void replayed(double seconds);
  void rejected(Rejection reason, double seconds);
  void fault_injected(Fault kind);

  // RAII: counts one charge call in flight for its lifetime.
  class InFlight final {
   public:
    explicit InFlight(Probe& p) : p_(p) {
      p_.in_flight_count_.fetch_add(1);
      p_.in_flight_.add(1);
    }
    ~InFlight() {
      p_.in_flight_.add(-1);
      p_.in_flight_count_.fetch_sub(1);
    }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    Probe& p_;
  };
  int in_flight() const { return in_flight_count_.load(); }

 private:
  std::array<metrics::Counter*, 3> charges_{};       // by Outcome
  std::array<metrics::Histogram*, 5> seconds_{};     // by Outcome, then replayed, rejected
  metrics::Counter& replays_;
  std::array<metrics::Counter*, 4> rejections_{};    // by Rejection
  std::array<metrics::Counter*, 4> faults_{};        // by Fault
  metrics::Gauge& in_flight_;
  std::atomic<int> in_flight_count_{0};
};

}  // namespace orderflow::payment_gateway
