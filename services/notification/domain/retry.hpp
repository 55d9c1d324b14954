#pragma once

#include <chrono>
#include <functional>

#include "libs/common/result.hpp"

namespace orderflow::notification::domain {

// In-process retries of a quick operation (an SMTP send): a few tries with doubling
// back-off, stopping early on success or on an error that retrying cannot fix.
struct RetryPolicy final {
  int max_attempts = 3;
  std::chrono::milliseconds first_backoff{500};
  std::chrono::milliseconds max_backoff{5'000};
};

struct RetryResult final {
  Status status;  // the last attempt's result
  int attempts = 0;
};

// `sleep(d)` waits d and returns false when the wait was cut short (the process is
// stopping): then no further attempt is made and the last error is returned.
RetryResult retry(const RetryPolicy& policy, const std::function<Status()>& attempt,
                  const std::function<bool(std::chrono::milliseconds)>& sleep);

}  // namespace orderflow::notification::domain
