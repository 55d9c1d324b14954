#include "libs/observability/trace.hpp"

#include "libs/common/ids.hpp"

namespace orderflow::trace {
namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

std::string Context::traceparent() const {
  return "00-" + trace_id + "-" + span_id + (sampled ? "-01" : "-00");
}

Context Context::child() const { return Context{trace_id, ids::random_hex(8), sampled, span_id}; }

Context Context::root() { return Context{ids::random_hex(16), ids::random_hex(8), true}; }

std::optional<Context> Context::parse(std::string_view tp) {
  // version(2) - trace(32) - span(16) - flags(2)
  if (tp.size() < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return std::nullopt;
  auto version = tp.substr(0, 2), trace = tp.substr(3, 32), span = tp.substr(36, 16),
       flags = tp.substr(53, 2);
  if (!is_lower_hex(version) || version == "ff" || !is_lower_hex(trace) || !is_lower_hex(span) ||
      !is_lower_hex(flags) || all_zero(trace) || all_zero(span)) {
    return std::nullopt;
  }
  if (version == "00" && tp.size() != 55) return std::nullopt;
  int f = std::stoi(std::string(flags), nullptr, 16);
  return Context{std::string(trace), std::string(span), (f & 1) != 0};
}

Context Context::continue_or_start(std::string_view tp) {
  if (auto c = parse(tp)) return c->child();
  return root();
}

namespace {
thread_local const Context* t_current = nullptr;
}  // namespace

const Context* current() { return t_current; }

Context current_or_continue(std::string_view traceparent) {
  if (t_current != nullptr) return *t_current;
  return Context::continue_or_start(traceparent);
}

ScopedContext::ScopedContext(const Context& ctx) : previous_(t_current) { t_current = &ctx; }

ScopedContext::~ScopedContext() { t_current = previous_; }

}  // namespace orderflow::trace
