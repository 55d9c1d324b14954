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

  std::string traceparent() const;
  // A child span of this context: same trace, new span id.
  Context child() const;
  static Context root();
  static std::optional<Context> parse(std::string_view traceparent);
  // Parse when valid, else start a new trace.
  static Context continue_or_start(std::string_view traceparent);
};

}  // namespace orderflow::trace
