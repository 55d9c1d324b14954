#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orderflow::trace {

// W3C Trace Context (traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>).
struct Context final {
  std::string trace_id;  // 32 hex
  std::string span_id;   // 16 hex: the span that this context represents
  bool sampled = true;
  // The span this one is a child of (16 hex), empty for a root or a context parsed from a
  // traceparent (which does not carry it). Tracing reports it as Zipkin's parentId.
  std::string parent_span_id;

  std::string traceparent() const;
  // A child span of this context: same trace, new span id.
  Context child() const;
  static Context root();
  static std::optional<Context> parse(std::string_view traceparent);
  // Parse when valid, else start a new trace.
  static Context continue_or_start(std::string_view traceparent);
};

// The context of the span the calling thread works in (set by the Kafka ConsumerLoop around
// a handler, or by a ScopedContext), or nullptr. Thread-local: it does not follow
// coroutines across threads, so HTTP handlers use RequestContext::trace instead.
const Context* current();

// The current() span's context when there is one (a Kafka handler under a ConsumerLoop),
// else continue_or_start(traceparent).
Context current_or_continue(std::string_view traceparent);

// Makes `ctx` the calling thread's current() until destroyed; restores the previous one.
class ScopedContext final {
 public:
  explicit ScopedContext(const Context& ctx);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  const Context* previous_;
};

}  // namespace orderflow::trace
