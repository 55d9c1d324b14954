#include <gtest/gtest.h>

#include <set>

#include "services/payment/domain/charge.hpp"
#include "services/payment/domain/replay.hpp"

namespace orderflow::payment {
namespace {

TEST(Classify, SuccessNeedsASucceededCharge) {
  auto ok = classify_response(200, R"({"id":"ch_1","status":"succeeded"})");
  EXPECT_EQ(ok.kind, ChargeKind::kSucceeded);
  EXPECT_EQ(ok.charge_id, "ch_1");
  EXPECT_EQ(classify_response(200, "not json").kind, ChargeKind::kTransient);
  EXPECT_EQ(classify_response(200, R"({"id":"ch_1","status":"pending"})").kind, ChargeKind::kTransient);
}

TEST(Classify, DeclineIsFinalWithItsCode) {
  auto d = classify_response(402, R"({"error":{"type":"card_error","code":"insufficient_funds","message":"no"}})");
  EXPECT_EQ(d.kind, ChargeKind::kDeclined);
  EXPECT_EQ(d.code, "insufficient_funds");
  EXPECT_EQ(classify_response(402, "").code, "card_declined");
}

TEST(Classify, ServerErrorsAndThrottlingAreTransient) {
  for (unsigned s : {500u, 502u, 503u, 504u, 429u}) EXPECT_EQ(classify_response(s, "{}").kind, ChargeKind::kTransient) << s;
  EXPECT_EQ(classify_response(500, "{}").code, "gateway-http-500");
}

TEST(Classify, OtherClientErrorsAreRejected) {
  EXPECT_EQ(classify_response(400, "{}").kind, ChargeKind::kRejected);
  EXPECT_EQ(classify_response(422, "{}").kind, ChargeKind::kRejected);
}

TEST(Classify, TransportErrorsAreTransient) {
  auto t = classify_transport_error("timeout", "no response");
  EXPECT_EQ(t.kind, ChargeKind::kTransient);
  EXPECT_EQ(t.code, "gateway-timeout");
}

TEST(Backoff, GrowsWithinBoundsAndIsJittered) {
  std::mt19937_64 rng(42);
  using std::chrono::milliseconds;
  for (int attempt = 0; attempt < 10; ++attempt) {
    for (int i = 0; i < 50; ++i) {
      auto d = backoff(attempt, milliseconds(100), milliseconds(2000), rng);
      EXPECT_GE(d, milliseconds(100));
      EXPECT_LE(d, milliseconds(std::min(100 << attempt, 2000)));
    }
  }
  std::set<std::int64_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(backoff(3, milliseconds(100), milliseconds(2000), rng).count());
  EXPECT_GT(seen.size(), 10u);
}

TEST(Replay, OnlyAGatewayUnavailableFailureIsTriedAgain) {
  EXPECT_TRUE(replay_is_new_attempt("FAILED", "payment-gateway-unavailable"));
  EXPECT_FALSE(replay_is_new_attempt("FAILED", "payment-rejected"));
  EXPECT_FALSE(replay_is_new_attempt("DECLINED", "card_declined"));
  EXPECT_FALSE(replay_is_new_attempt("SUCCEEDED", ""));
  EXPECT_EQ(replay_key("e-1", "payment-service.dlq:3:12"), "e-1|payment-service.dlq:3:12");
  EXPECT_NE(replay_key("e-1", "payment-service.dlq:3:12"), replay_key("e-1", "payment-service.dlq:3:13"));
}

}  // namespace
}  // namespace orderflow::payment
