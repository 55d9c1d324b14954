#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "libs/kafka/record.hpp"

// The payment retry topic: a record whose charge failed transiently is copied to
// payment-service.retry with an attempt count and a not-before time, so the partition it
// came from keeps flowing while it waits.
namespace orderflow::payment {

inline constexpr const char* kRetryAttempt = "retry-attempt";            // 2, 3, ... (1 = first delivery)
inline constexpr const char* kRetryNotBefore = "retry-not-before";       // epoch ms
inline constexpr const char* kRetryFirstFailure = "retry-first-failure-time";
inline constexpr const char* kRetryLastError = "retry-last-error";
inline constexpr const char* kRetryOriginalTopic = "retry-original-topic";
inline constexpr const char* kRetryOriginalPartition = "retry-original-partition";
inline constexpr const char* kRetryOriginalOffset = "retry-original-offset";

struct RetryPolicy final {
  int rounds = 5;                               // deliveries in all, the first included
  std::chrono::milliseconds base{4'000};        // delay before round 2; doubles each round
  std::chrono::milliseconds max{32'000};
};

struct RetryState final {
  int attempt = 1;                   // this delivery's round
  std::int64_t not_before_ms = 0;    // 0: now
  std::string first_failure_time;    // empty on the first delivery
};

// What the retry headers of `record` say (defaults for a first delivery).
RetryState read_retry_state(const kafka::Record& record);

// Delay before round `next_attempt` (>= 2): base * 2^(next_attempt - 2), capped, with
// "equal jitter" (half fixed, half random) so retries of many orders spread out.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int next_attempt, std::mt19937_64& rng);

// The copy of `record` for the retry topic: same key, value and headers (CloudEvents,
// traceparent), retry headers replaced, the original position remembered.
kafka::Record make_retry_record(const kafka::Record& record, const std::string& retry_topic, int next_attempt,
                                std::int64_t not_before_ms, const std::string& first_failure_time,
                                const std::string& last_error);

// The record as it was first consumed (topic, partition, offset, headers without retry-*),
// for the DLQ: a replay then starts the order's payment from the beginning.
kafka::Record original_of(const kafka::Record& record);

}  // namespace orderflow::payment
