#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace orderflow::auth {

// Token buckets per client: `rate` requests per second on average, bursts of up to
// `burst`. acquire() takes one token, or says how long to wait (the Retry-After of a 429).
// Thread-safe; memory is bounded (idle full buckets are dropped past `max_clients`).
class RateLimiter final {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(double rate, double burst, std::size_t max_clients = 10'000);

  bool enabled() const { return rate_ > 0; }
  // nullopt: allowed. Otherwise: refused, retry after this many seconds (at least 1).
  std::optional<std::chrono::seconds> acquire(const std::string& client, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens;
    Clock::time_point at;
  };
  void evict_idle(Clock::time_point now);

  double rate_;
  double burst_;
  std::size_t max_clients_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace orderflow::auth
