#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace orderflow::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using Field = std::pair<std::string_view, std::string_view>;
using Fields = std::initializer_list<Field>;

// Structured JSON lines on stderr: {"ts":..,"level":..,"service":..,"msg":..,<fields>}.
// Fields with an empty value are left out, so callers can pass orderId/correlationId/
// traceId unconditionally; traceId defaults to trace::current()'s. Each line is written with one write(2), so lines from
// different threads never interleave.
void init(std::string service, Level min_level);
Level parse_level(std::string_view name);
bool enabled(Level level);
void write(Level level, std::string_view msg, Fields fields = {});

inline void debug(std::string_view msg, Fields f = {}) { write(Level::kDebug, msg, f); }
inline void info(std::string_view msg, Fields f = {}) { write(Level::kInfo, msg, f); }
inline void warn(std::string_view msg, Fields f = {}) { write(Level::kWarn, msg, f); }
inline void error(std::string_view msg, Fields f = {}) { write(Level::kError, msg, f); }

}  // namespace orderflow::log
