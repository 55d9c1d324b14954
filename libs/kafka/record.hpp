#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderflow::kafka {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  // The last occurrence wins, as in most Kafka clients' lastHeader().
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return std::nullopt;
}

// One Kafka record, produced or consumed.
struct Record final {
  std::string topic;
  std::string key;
  std::string value;
  Headers headers;
  std::int32_t partition = -1;  // consumed: the partition; produced: -1 = by key
  std::int64_t offset = -1;     // consumed records only
  std::int64_t timestamp_ms = 0;

  std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
};

}  // namespace orderflow::kafka
