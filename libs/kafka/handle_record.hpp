#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "libs/kafka/record.hpp"
#include "libs/observability/tracing.hpp"

namespace orderflow::kafka {

// How often a record or wave that keeps failing is logged again: a dependency that is down
// (a full disk, a broker) fails every attempt, and one line per back-off would bury the log.
inline constexpr auto kFailureLogInterval = std::chrono::seconds(30);

// The log lines of one record's or wave's failed attempts: the first failure, then at most
// one line per kFailureLogInterval (with the attempts since), then one when it succeeds.
class FailureLog final {
 public:
  // An attempt failed: true when this one is to be logged.
  bool failed() {
    const auto now = std::chrono::steady_clock::now();
    ++attempts_;
    if (attempts_ > 1 && now - last_logged_ < kFailureLogInterval) return false;
    if (attempts_ == 1) since_ = now;
    last_logged_ = now;
    return true;
  }
  int attempts() const { return attempts_; }
  // Seconds since the first failure.
  std::string failing_for() const {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - since_).count());
  }

 private:
  int attempts_ = 0;
  std::chrono::steady_clock::time_point since_, last_logged_;
};

namespace detail {

// One attempt at a record, traced: a CONSUMER span continuing the record's `traceparent`,
// with the OpenTelemetry messaging tags; without a tracer no span, and the context continued
// from the header all the same.
struct ConsumerSpan {
  trace::Span span;
  trace::Context context;
};
ConsumerSpan start_consumer_span(trace::Tracer* tracer, const Record& record, const std::string& group);

// Hands `record` to `handler` until it returns. Each attempt is a CONSUMER span continuing
// the record's `traceparent` (the handler sees it as trace::current()); a throw is logged
// (FailureLog: the first, then once per interval, then the recovery), and the record is tried again after a doubling back-off (100 ms .. 5 s) waited with
// `wait`. `failing` counts records that failed at least once and are not done yet.
// Returns false when `wait` says the loop is stopping: the record is not done.
bool handle_until_done(const Record& record, const std::function<void(const Record&)>& handler,
                       const std::string& loop_name, const std::string& group, trace::Tracer* tracer,
                       std::atomic<int>& failing, const std::function<bool(std::chrono::milliseconds)>& wait);

}  // namespace detail

}  // namespace orderflow::kafka
