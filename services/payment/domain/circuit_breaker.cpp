#include "services/payment/domain/circuit_breaker.hpp"

namespace orderflow::payment {

CircuitBreaker::State CircuitBreaker::state_locked(Clock::time_point now) const {
  if (state_ == State::kOpen && now - opened_at_ >= options_.open_for) return State::kHalfOpen;
  return state_;
}

bool CircuitBreaker::allow(Clock::time_point now) {
  std::lock_guard lock(mu_);
  switch (state_locked(now)) {
    case State::kClosed: return true;
    case State::kOpen: return false;
    case State::kHalfOpen:
      state_ = State::kHalfOpen;
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::on_success() {
  std::lock_guard lock(mu_);
  state_ = State::kClosed;
  failures_ = 0;
  probe_in_flight_ = false;
}

void CircuitBreaker::on_failure(Clock::time_point now) {
  std::lock_guard lock(mu_);
  ++failures_;
  if (state_ == State::kHalfOpen || state_locked(now) == State::kHalfOpen || failures_ >= options_.failure_threshold) {
    state_ = State::kOpen;
    opened_at_ = now;
  }
  probe_in_flight_ = false;
}

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  return state_locked(now);
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

std::string_view to_string(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::kClosed: return "CLOSED";
    case CircuitBreaker::State::kOpen: return "OPEN";
    case CircuitBreaker::State::kHalfOpen: return "HALF_OPEN";
  }
  return "CLOSED";
}

}  // namespace orderflow::payment
