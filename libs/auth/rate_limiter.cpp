#include "libs/auth/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace orderflow::auth {

RateLimiter::RateLimiter(double rate, double burst, std::size_t max_clients)
    : rate_(rate), burst_(std::max(burst, 1.0)), max_clients_(max_clients) {}

std::optional<std::chrono::seconds> RateLimiter::acquire(const std::string& client, Clock::time_point now) {
  if (!enabled()) return std::nullopt;
  std::lock_guard lock(mu_);
  if (buckets_.size() >= max_clients_ && !buckets_.contains(client)) evict_idle(now);
  auto [it, fresh] = buckets_.try_emplace(client, Bucket{burst_, now});
  auto& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
    b.at = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait = (1.0 - b.tokens) / rate_;
  return std::chrono::seconds(std::max<long>(1, static_cast<long>(std::ceil(wait))));
}

void RateLimiter::evict_idle(Clock::time_point now) {
  // A bucket that has refilled completely carries no state worth keeping.
  std::erase_if(buckets_, [&](const auto& kv) {
    const double elapsed = std::chrono::duration<double>(now - kv.second.at).count();
    return kv.second.tokens + elapsed * rate_ >= burst_;
  });
  if (buckets_.size() >= max_clients_) buckets_.clear();  // all busy: start over rather than grow
}

}  // namespace orderflow::auth
