#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace orderflow {

using SystemTime = std::chrono::system_clock::time_point;

// RFC 3339 / ISO 8601 UTC with millisecond precision: 2026-01-31T12:00:00.123Z
std::string iso8601(SystemTime t);
inline std::string now_iso8601() { return iso8601(std::chrono::system_clock::now()); }

inline std::int64_t epoch_ms(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline std::int64_t now_epoch_ms() { return epoch_ms(std::chrono::system_clock::now()); }
inline std::string iso8601_from_ms(std::int64_t ms) {
  return iso8601(SystemTime{std::chrono::milliseconds{ms}});
}

}  // namespace orderflow
