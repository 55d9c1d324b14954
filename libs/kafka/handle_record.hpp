#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "libs/kafka/record.hpp"
#include "libs/observability/tracing.hpp"

namespace orderflow::kafka::detail {

// One attempt at a record, traced: a CONSUMER span continuing the record's `traceparent`,
// with the OpenTelemetry messaging tags; without a tracer no span, and the context continued
// from the header all the same.
struct ConsumerSpan {
  trace::Span span;
  trace::Context context;
};
ConsumerSpan start_consumer_span(trace::Tracer* tracer, const Record& record, const std::string& group);

// Hands `record` to `handler` until it returns. Each attempt is a CONSUMER span continuing
// the record's `traceparent` (the handler sees it as trace::current()); a throw is logged,
// and the record is tried again after a doubling back-off (100 ms .. 5 s) waited with
// `wait`. `failing` counts records that failed at least once and are not done yet.
// Returns false when `wait` says the loop is stopping: the record is not done.
bool handle_until_done(const Record& record, const std::function<void(const Record&)>& handler,
                       const std::string& loop_name, const std::string& group, trace::Tracer* tracer,
                       std::atomic<int>& failing, const std::function<bool(std::chrono::milliseconds)>& wait);

}  // namespace orderflow::kafka::detail
