#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace orderflow {

// Thrown at start-up only: a bad configuration stops the process with a message that
// says what to fix.
class ConfigError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Typed configuration lookup. A setting named "http-port" is read from, in order of
// precedence: the flag `--http-port=VALUE` (or `--http-port VALUE`), the environment
// variable ORDERFLOW_HTTP_PORT, then the given default.
class Settings final {
 public:
  Settings(int argc, char** argv);
  explicit Settings(std::map<std::string, std::string> flags) : flags_(std::move(flags)) {}

  std::optional<std::string> find(const std::string& name) const;
  std::string str(const std::string& name, const std::string& fallback) const;
  std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  bool boolean(const std::string& name, bool fallback) const;
  std::chrono::milliseconds millis(const std::string& name, std::int64_t fallback) const {
    return std::chrono::milliseconds{integer(name, fallback, 0, 86'400'000)};
  }
  bool help_requested() const { return flags_.contains("help"); }

  static std::string env_name(const std::string& name);

 private:
  std::map<std::string, std::string> flags_;
};

}  // namespace orderflow
