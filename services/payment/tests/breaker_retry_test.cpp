#include <gtest/gtest.h>

#include "services/payment/domain/circuit_breaker.hpp"
#include "services/payment/domain/retry.hpp"

namespace orderflow::payment {
namespace {

using namespace std::chrono_literals;
using State = CircuitBreaker::State;

TEST(CircuitBreaker, OpensAfterThresholdAndShedsCalls) {
  CircuitBreaker b({3, 1000ms});
  auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.allow(t0));
    b.on_failure(t0);
  }
  EXPECT_EQ(b.state(t0), State::kClosed);
  ASSERT_TRUE(b.allow(t0));
  b.on_failure(t0);
  EXPECT_EQ(b.state(t0), State::kOpen);
  EXPECT_FALSE(b.allow(t0 + 999ms));
}

TEST(CircuitBreaker, HalfOpenLetsOneProbeThrough) {
  CircuitBreaker b({1, 1000ms});
  auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  b.on_failure(t0);
  auto later = t0 + 1000ms;
  EXPECT_EQ(b.state(later), State::kHalfOpen);
  EXPECT_TRUE(b.allow(later));
  EXPECT_FALSE(b.allow(later)) << "only one probe at a time";
  b.on_success();
  EXPECT_EQ(b.state(later), State::kClosed);
  EXPECT_TRUE(b.allow(later));
}

TEST(CircuitBreaker, FailedProbeReopens) {
  CircuitBreaker b({5, 1000ms});
  auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i) b.on_failure(t0);
  auto probe_time = t0 + 1500ms;
  ASSERT_TRUE(b.allow(probe_time));
  b.on_failure(probe_time);
  EXPECT_EQ(b.state(probe_time), State::kOpen);
  EXPECT_FALSE(b.allow(probe_time + 999ms));
  EXPECT_TRUE(b.allow(probe_time + 1000ms));
}

TEST(CircuitBreaker, SuccessResetsTheCount) {
  CircuitBreaker b({3, 1000ms});
  auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  b.on_failure(t0);
  b.on_failure(t0);
  b.on_success();
  b.on_failure(t0);
  EXPECT_EQ(b.state(t0), State::kClosed);
  EXPECT_EQ(b.consecutive_failures(), 1);
}

TEST(Retry, DelayDoublesWithinJitterBoundsAndCaps) {
  RetryPolicy p{5, 4000ms, 32000ms};
  std::mt19937_64 rng(7);
  struct Case {
    int next;
    std::int64_t full;
  } cases[] = {{2, 4000}, {3, 8000}, {4, 16000}, {5, 32000}, {9, 32000}};
  for (auto c : cases) {
    for (int i = 0; i < 100; ++i) {
      auto d = retry_delay(p, c.next, rng).count();
      EXPECT_GE(d, c.full / 2) << c.next;
      EXPECT_LE(d, c.full) << c.next;
    }
  }
}

TEST(Retry, FirstDeliveryHasDefaults) {
  kafka::Record r{"order-events", "o-1", "{}", {{"ce_id", "e"}}, 2, 10};
  auto s = read_retry_state(r);
  EXPECT_EQ(s.attempt, 1);
  EXPECT_EQ(s.not_before_ms, 0);
  EXPECT_TRUE(s.first_failure_time.empty());
}

TEST(Retry, RetryRecordKeepsEventAndRemembersOrigin) {
  kafka::Record r{"order-events", "o-1", "{\"v\":1}", {{"ce_id", "e"}, {"traceparent", "tp"}}, 2, 10};
  auto retry = make_retry_record(r, "payment-service.retry", 2, 12345, "t0", "gateway-http-503: down");
  EXPECT_EQ(retry.topic, "payment-service.retry");
  EXPECT_EQ(retry.key, "o-1");
  EXPECT_EQ(retry.value, r.value);
  EXPECT_EQ(retry.header("ce_id"), "e");
  EXPECT_EQ(retry.header("traceparent"), "tp");
  retry.partition = 0;  // as consumed from the retry topic
  retry.offset = 77;
  auto s = read_retry_state(retry);
  EXPECT_EQ(s.attempt, 2);
  EXPECT_EQ(s.not_before_ms, 12345);
  EXPECT_EQ(s.first_failure_time, "t0");

  auto again = make_retry_record(retry, "payment-service.retry", 3, 99999, "t0", "still down");
  again.partition = 1;
  again.offset = 5;
  int attempts = 0;
  for (const auto& h : again.headers) attempts += h.first == kRetryAttempt;
  EXPECT_EQ(attempts, 1) << "retry headers are replaced, not stacked";
  EXPECT_EQ(read_retry_state(again).attempt, 3);

  auto original = original_of(again);
  EXPECT_EQ(original.topic, "order-events");
  EXPECT_EQ(original.partition, 2);
  EXPECT_EQ(original.offset, 10);
  EXPECT_FALSE(original.header(kRetryAttempt));
  EXPECT_EQ(original.header("ce_id"), "e");
}

}  // namespace
}  // namespace orderflow::payment
