#pragma once

#include <chrono>
#include <mutex>
#include <string_view>

namespace orderflow::payment {

// Sheds gateway calls after repeated failures so a dead gateway is not hammered and orders
// move on to the retry topic at once instead of waiting out timeouts.
//   closed    - calls pass; `failure_threshold` consecutive failures open it
//   open      - calls are refused until `open_for` has passed, then it is half-open
//   half-open - one probe call passes at a time; success closes, failure reopens
// Thread-safe. The clock is a parameter so tests drive it.
class CircuitBreaker final {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kClosed = 0, kOpen = 1, kHalfOpen = 2 };
  struct Options {
    int failure_threshold = 5;
    std::chrono::milliseconds open_for{10'000};
  };

  explicit CircuitBreaker(Options options) : options_(options) {}

  // May a call go out now? In half-open state only one caller gets a yes until it reports.
  bool allow(Clock::time_point now);
  void on_success();
  void on_failure(Clock::time_point now);

  State state(Clock::time_point now) const;
  int consecutive_failures() const;

 private:
  State state_locked(Clock::time_point now) const;

  Options options_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;
  int failures_ = 0;
  Clock::time_point opened_at_{};
  bool probe_in_flight_ = false;
};

std::string_view to_string(CircuitBreaker::State s);

}  // namespace orderflow::payment
