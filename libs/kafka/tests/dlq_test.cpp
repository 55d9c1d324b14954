#include <gtest/gtest.h>

#include "libs/kafka/dlq.hpp"

namespace orderflow::kafka {
namespace {

TEST(Dlq, KeepsOriginalAndAddsFailureHeaders) {
  Record original{"order-events", "o-1", R"({"x":1})", {{"ce_id", "e-1"}, {"ce_correlationid", "c-1"}}, 3, 42};
  auto dlq = make_dlq_record(original, dlq_topic("payment-service"),
                             {"payment-service", "gateway-unavailable", "HTTP 500\nfrom gateway", 5,
                              "2026-01-01T00:00:00.000Z", "2026-01-01T00:01:00.000Z"});
  EXPECT_EQ(dlq.topic, "payment-service.dlq");
  EXPECT_EQ(dlq.key, "o-1");
  EXPECT_EQ(dlq.value, original.value);
  EXPECT_EQ(dlq.partition, -1);
  EXPECT_EQ(dlq.header("ce_id"), "e-1");
  EXPECT_EQ(dlq.header("ce_correlationid"), "c-1");
  EXPECT_EQ(dlq.header("dlq-original-topic"), "order-events");
  EXPECT_EQ(dlq.header("dlq-original-partition"), "3");
  EXPECT_EQ(dlq.header("dlq-original-offset"), "42");
  EXPECT_EQ(dlq.header("dlq-consumer-group"), "payment-service");
  EXPECT_EQ(dlq.header("dlq-reason"), "gateway-unavailable");
  EXPECT_EQ(dlq.header("dlq-error-message"), "HTTP 500 from gateway");
  EXPECT_EQ(dlq.header("dlq-attempts"), "5");
  EXPECT_EQ(dlq.header("dlq-first-failure-time"), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(dlq.header("dlq-last-failure-time"), "2026-01-01T00:01:00.000Z");
}

TEST(Dlq, ReplacesEarlierFailureHeaders) {
  Record replayed{"order-events", "o-1", "{}", {{"dlq-reason", "old"}, {"dlq-attempts", "9"},
                                              {"dlq-replayed-from", "payment-service.dlq:0:7"}}, 0, 8};
  auto dlq = make_dlq_record(replayed, "payment-service.dlq", {"g", "malformed-event", "bad", 1, "t1", "t2"});
  int reasons = 0;
  for (const auto& [k, v] : dlq.headers) reasons += k == "dlq-reason";
  EXPECT_EQ(reasons, 1);
  EXPECT_EQ(dlq.header("dlq-reason"), "malformed-event");
  EXPECT_EQ(dlq.header("dlq-attempts"), "1");
  EXPECT_EQ(dlq.header("dlq-replayed-from"), "payment-service.dlq:0:7");
}

}  // namespace
}  // namespace orderflow::kafka
