#include "services/notification/domain/retry.hpp"

#include <algorithm>

namespace orderflow::notification::domain {

RetryResult retry(const RetryPolicy& policy, const std::function<Status()>& attempt,
                  const std::function<bool(std::chrono::milliseconds)>& sleep) {
  auto backoff = policy.first_backoff;
  RetryResult result{attempt(), 1};
  while (!result.status.ok() && result.status.error().retryable &&
         result.attempts < policy.max_attempts) {
    if (!sleep(backoff)) break;
    backoff = std::min(backoff * 2, policy.max_backoff);
    result.status = attempt();
    ++result.attempts;
  }
  return result;
}

}  // namespace orderflow::notification::domain
