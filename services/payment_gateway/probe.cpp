#include "services/payment_gateway/probe.hpp"

#include <string>

namespace orderflow::payment_gateway {
namespace {

// Label values, indexed like the enums in probe.hpp.
constexpr std::array<const char*, 3> kOutcomes{"succeeded", "declined", "error"};
constexpr std::array<const char*, 5> kAnswers{"succeeded", "declined", "error", "replayed", "rejected"};
constexpr std::array<const char*, 4> kRejections{"missing_idempotency_key", "malformed_body", "invalid_body",
                                                 "idempotency_mismatch"};
constexpr std::array<const char*, 4> kFaults{"outage", "error", "latency", "reset"};
constexpr std::size_t kReplayed = 3;
constexpr std::size_t kRejected = 4;

}  // namespace

Probe::Probe(metrics::Registry& registry, const FaultState& faults)
    : replays_(registry
                   .counter("gateway_idempotent_replays_total",
                            "Charge calls answered with the answer stored for their Idempotency-Key")
                   .with({})),
      in_flight_(registry.gauge("gateway_charges_in_flight", "Charge calls being handled now").with({})) {
  auto& charges = registry.counter("gateway_charges_total",
                                   "Processed charge calls by outcome (error includes injected faults)",
                                   {"outcome"});
  for (std::size_t i = 0; i < kOutcomes.size(); ++i) charges_[i] = &charges.with({kOutcomes[i]});

  auto& seconds = registry.histogram("gateway_charge_seconds",
                                     "Time to answer POST /v1/charges by answer", {"outcome"});
  for (std::size_t i = 0; i < kAnswers.size(); ++i) seconds_[i] = &seconds.with({kAnswers[i]});

  auto& rejections = registry.counter("gateway_charge_rejections_total",
                                      "Charge calls rejected before processing", {"reason"});
  for (std::size_t i = 0; i < kRejections.size(); ++i) rejections_[i] = &rejections.with({kRejections[i]});

  auto& injected = registry.counter("gateway_faults_injected_total", "Faults injected into charge calls",
                                    {"kind"});
  for (std::size_t i = 0; i < kFaults.size(); ++i) faults_[i] = &injected.with({kFaults[i]});

  registry.callback_gauge("gateway_fault_error_rate", "Configured fraction of charge calls failed with 500",
                          [&faults] { return faults.snapshot().error_rate; });
  registry.callback_gauge("gateway_fault_latency_seconds", "Configured fixed latency added to charge calls",
                          [&faults] { return static_cast<double>(faults.snapshot().latency_ms) / 1000.0; });
  registry.callback_gauge("gateway_fault_outage", "1 while the simulated outage is on",
                          [&faults] { return faults.snapshot().outage ? 1.0 : 0.0; });
}

void Probe::charged(Outcome outcome, double seconds) {
  auto i = static_cast<std::size_t>(outcome);
  charges_[i]->inc();
  seconds_[i]->observe(seconds);
}

void Probe::replayed(double seconds) {
  replays_.inc();
  seconds_[kReplayed]->observe(seconds);
}

void Probe::rejected(Rejection reason, double seconds) {
  rejections_[static_cast<std::size_t>(reason)]->inc();
  seconds_[kRejected]->observe(seconds);
}

void Probe::fault_injected(Fault kind) { faults_[static_cast<std::size_t>(kind)]->inc(); }

}  // namespace orderflow::payment_gateway
