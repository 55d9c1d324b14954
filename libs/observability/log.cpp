#include "libs/observability/log.hpp"

#include <unistd.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "libs/common/time.hpp"
#include "libs/observability/trace.hpp"

namespace orderflow::log {
namespace {

std::string g_service = "orderflow";  // set once in main() before any thread starts
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

constexpr std::string_view kLevelNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void append_json_string(std::string& out, std::string_view s) {
  out += boost::json::serialize(boost::json::value(boost::json::string(s)));
}

}  // namespace

void init(std::string service, Level min_level) {
  g_service = std::move(service);
  g_min_level = static_cast<int>(min_level);
}

Level parse_level(std::string_view name) {
  if (name == "debug" || name == "DEBUG") return Level::kDebug;
  if (name == "warn" || name == "WARN") return Level::kWarn;
  if (name == "error" || name == "ERROR") return Level::kError;
  return Level::kInfo;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view msg, Fields fields) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(160 + msg.size());
  line += "{\"ts\":\"";
  line += now_iso8601();
  line += "\",\"level\":\"";
  line += kLevelNames[static_cast<int>(level)];
  line += "\",\"service\":";
  append_json_string(line, g_service);
  line += ",\"msg\":";
  append_json_string(line, msg);
  bool has_trace_id = false;
  for (const auto& [k, v] : fields) {
    if (v.empty()) continue;
    has_trace_id = has_trace_id || k == "traceId";
    line += ',';
    append_json_string(line, k);
    line += ':';
    append_json_string(line, v);
  }
  // Inside a traced unit of work (a Kafka handler under a ConsumerLoop), every line names
  // its trace, so callers need not pass it.
  if (const auto* ctx = trace::current(); ctx != nullptr && !has_trace_id) {
    line += ",\"traceId\":";
    append_json_string(line, ctx->trace_id);
  }
  line += "}\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace orderflow::log
