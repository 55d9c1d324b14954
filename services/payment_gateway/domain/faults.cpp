#include "services/payment_gateway/domain/faults.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace orderflow::payment_gateway {

Violations validate(const FaultConfig& c) {
  Violations out;
  if (!std::isfinite(c.error_rate) || c.error_rate < 0.0 || c.error_rate > 1.0) {
    out.push_back({"errorRate", "must be a fraction between 0 and 1 (0.3 = 30 % of charge calls)"});
  }
  if (!std::isfinite(c.reset_after_commit_rate) || c.reset_after_commit_rate < 0.0 || c.reset_after_commit_rate > 1.0) {
    out.push_back({"resetAfterCommitRate", "must be a fraction between 0 and 1 (0.3 = 30 % of charge calls)"});
  }
  const auto range = "must be between 0 and " + std::to_string(kMaxInjectedLatencyMs) + " milliseconds";
  if (c.latency_ms < 0 || c.latency_ms > kMaxInjectedLatencyMs) out.push_back({"latencyMs", range});
  if (c.latency_jitter_ms < 0 || c.latency_jitter_ms > kMaxInjectedLatencyMs) {
    out.push_back({"latencyJitterMs", range});
  }
  return out;
}

FaultConfig apply(FaultConfig base, const FaultPatch& patch) {
  if (patch.error_rate) base.error_rate = *patch.error_rate;
  if (patch.latency_ms) base.latency_ms = *patch.latency_ms;
  if (patch.latency_jitter_ms) base.latency_jitter_ms = *patch.latency_jitter_ms;
  if (patch.outage) base.outage = *patch.outage;
  if (patch.reset_after_commit_rate) base.reset_after_commit_rate = *patch.reset_after_commit_rate;
  return base;
}

std::optional<double> parse_fraction(std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

FaultPlan plan_faults(const FaultConfig& c, double error_roll, double jitter_roll, double reset_roll) {
  FaultPlan plan;
  std::int64_t jitter = 0;
  if (c.latency_jitter_ms > 0) {
    // floor(roll * (j + 1)) is uniform over 0..j for roll in [0, 1).
    jitter = static_cast<std::int64_t>(jitter_roll * static_cast<double>(c.latency_jitter_ms + 1));
    if (jitter > c.latency_jitter_ms) jitter = c.latency_jitter_ms;
  }
  plan.delay = std::chrono::milliseconds(c.latency_ms + jitter);
  if (c.outage) {
    plan.action = FaultPlan::Action::kOutage;
  } else if (error_roll < c.error_rate) {
    plan.action = FaultPlan::Action::kError;
  }
  plan.reset_after_commit = plan.action == FaultPlan::Action::kNone && reset_roll < c.reset_after_commit_rate;
  return plan;
}

Violations FaultState::update(const FaultPatch& patch) {
  std::lock_guard lock(mu_);
  auto next = apply(config_, patch);
  auto violations = validate(next);
  if (violations.empty()) config_ = next;
  return violations;
}

}  // namespace orderflow::payment_gateway
