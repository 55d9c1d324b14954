#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

#include "services/payment_gateway/domain/violation.hpp"

namespace orderflow::payment_gateway {

inline constexpr std::int64_t kMaxInjectedLatencyMs = 60'000;

// Faults injected in front of every POST /v1/charges, before any processing (SPEC §6).
struct FaultConfig final {
  double error_rate = 0.0;            // fraction of charge calls answered 500, in [0, 1]
  std::int64_t latency_ms = 0;        // added to every charge call
  std::int64_t latency_jitter_ms = 0; // plus a uniform random 0..jitter
  bool outage = false;                // every charge call answered 503
  // Fraction of charge calls that are processed (the outcome committed to the ledger) and
  // then get no answer: the connection is reset, as when a gateway's reply is lost.
  double reset_after_commit_rate = 0.0;

  friend bool operator==(const FaultConfig&, const FaultConfig&) = default;
};

// A partial update (POST /admin/faults): absent members keep their value.
struct FaultPatch final {
  std::optional<double> error_rate;
  std::optional<std::int64_t> latency_ms;
  std::optional<std::int64_t> latency_jitter_ms;
  std::optional<bool> outage;
  std::optional<double> reset_after_commit_rate;
};

// Empty when valid. Field names are the JSON ones (errorRate, latencyMs, ...).
Violations validate(const FaultConfig& config);
FaultConfig apply(FaultConfig base, const FaultPatch& patch);

// Parses a fraction such as "0.3" (flag/env values). Nullopt unless a finite number.
std::optional<double> parse_fraction(std::string_view text);

// What to do to one charge call.
struct FaultPlan final {
  enum class Action { kNone, kOutage, kError };
  std::chrono::milliseconds delay{0};
  Action action = Action::kNone;
  bool reset_after_commit = false;  // process the charge, then reset the connection
};

// Pure: the rolls are uniform random numbers in [0, 1) supplied by the caller, so tests can
// pin them.
FaultPlan plan_faults(const FaultConfig& config, double error_roll, double jitter_roll, double reset_roll = 1.0);

// The current fault configuration, shared between the admin endpoint and every charge call.
class FaultState final {
 public:
  explicit FaultState(FaultConfig initial) : config_(initial) {}

  FaultConfig snapshot() const {
    std::lock_guard lock(mu_);
    return config_;
  }
  // Applies `patch` when the result is valid; otherwise changes nothing and returns why.
  Violations update(const FaultPatch& patch);
  void reset(FaultConfig config) {
    std::lock_guard lock(mu_);
    config_ = config;
  }

 private:
  mutable std::mutex mu_;
  FaultConfig config_;
};

}  // namespace orderflow::payment_gateway
