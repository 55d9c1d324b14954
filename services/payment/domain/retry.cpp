#include "services/payment/domain/retry.hpp"

#include <algorithm>

namespace orderflow::payment {
namespace {

std::int64_t to_int(const std::optional<std::string>& s, std::int64_t fallback) {
  if (!s) return fallback;
  try {
    return std::stoll(*s);
  } catch (const std::exception&) {
    return fallback;
  }
}

bool is_retry_header(const std::string& name) { return name.rfind("retry-", 0) == 0; }

}  // namespace

RetryState read_retry_state(const kafka::Record& record) {
  RetryState s;
  s.attempt = static_cast<int>(std::max<std::int64_t>(1, to_int(record.header(kRetryAttempt), 1)));
  s.not_before_ms = to_int(record.header(kRetryNotBefore), 0);
  s.first_failure_time = record.header(kRetryFirstFailure).value_or("");
  return s;
}

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int next_attempt, std::mt19937_64& rng) {
  std::int64_t d = policy.base.count();
  for (int i = 2; i < next_attempt && d < policy.max.count(); ++i) d *= 2;
  d = std::min<std::int64_t>(d, policy.max.count());
  std::uniform_int_distribution<std::int64_t> jitter(0, d / 2);
  return std::chrono::milliseconds(d - d / 2 + jitter(rng));
}

kafka::Record make_retry_record(const kafka::Record& record, const std::string& retry_topic, int next_attempt,
                                std::int64_t not_before_ms, const std::string& first_failure_time,
                                const std::string& last_error) {
  auto original = original_of(record);
  kafka::Record out;
  out.topic = retry_topic;
  out.key = record.key;
  out.value = record.value;
  out.headers = original.headers;
  out.headers.emplace_back(kRetryAttempt, std::to_string(next_attempt));
  out.headers.emplace_back(kRetryNotBefore, std::to_string(not_before_ms));
  out.headers.emplace_back(kRetryFirstFailure, first_failure_time);
  out.headers.emplace_back(kRetryLastError, last_error.substr(0, 500));
  out.headers.emplace_back(kRetryOriginalTopic, original.topic);
  out.headers.emplace_back(kRetryOriginalPartition, std::to_string(original.partition));
  out.headers.emplace_back(kRetryOriginalOffset, std::to_string(original.offset));
  return out;
}

kafka::Record original_of(const kafka::Record& record) {
  kafka::Record out = record;
  if (auto topic = record.header(kRetryOriginalTopic)) {
    out.topic = *topic;
    out.partition = static_cast<std::int32_t>(to_int(record.header(kRetryOriginalPartition), -1));
    out.offset = to_int(record.header(kRetryOriginalOffset), -1);
  }
  std::erase_if(out.headers, [](const auto& h) { return is_retry_header(h.first); });
  return out;
}

}  // namespace orderflow::payment
