#include <gtest/gtest.h>

#include "libs/storage/database.hpp"
#include "services/console/domain/charts.hpp"
#include "services/console/domain/replay_plan.hpp"
#include "services/console/domain/session.hpp"
#include "services/console/repository/event_index.hpp"

namespace orderflow::console {
namespace {

using namespace std::chrono_literals;

struct Clock {
  std::int64_t now = 1'000;
};

domain::SessionStore store(Clock& clock) {
  auto counter = std::make_shared<int>(0);
  return domain::SessionStore([counter](std::size_t n) { return std::string(n * 2 - 1, 'a') + std::to_string(++*counter % 10); },
                              [&clock] { return clock.now; }, 100ms);
}

TEST(SessionStore, OpensFindsAndClosesSessions) {
  Clock clock;
  auto sessions = store(clock);
  auto s = sessions.open("alice", false);
  EXPECT_NE(s.id, s.csrf);
  auto found = sessions.find(s.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->who, "alice");
  EXPECT_EQ(found->csrf, s.csrf);
  EXPECT_FALSE(sessions.find("nope"));
  EXPECT_FALSE(sessions.find(""));
  sessions.close(s.id);
  EXPECT_FALSE(sessions.find(s.id));
}

TEST(SessionStore, ExpiresAfterIdleTimeoutButUseKeepsItAlive) {
  Clock clock;
  auto sessions = store(clock);
  auto s = sessions.open("alice", false);
  clock.now += 90;
  EXPECT_TRUE(sessions.find(s.id));  // restarts the idle timeout
  clock.now += 90;
  EXPECT_TRUE(sessions.find(s.id));
  clock.now += 100;
  EXPECT_FALSE(sessions.find(s.id));
}

TEST(CookieValue, FindsTheNamedCookie) {
  EXPECT_EQ(domain::cookie_value("a=1; orderflow_console=xyz; b=2", "orderflow_console"), "xyz");
  EXPECT_EQ(domain::cookie_value("orderflow_console=xyz", "orderflow_console"), "xyz");
  EXPECT_EQ(domain::cookie_value("xorderflow_console=1", "orderflow_console"), "");
  EXPECT_EQ(domain::cookie_value("", "orderflow_console"), "");
}

domain::ReplayCandidate payment_candidate(std::string status, std::optional<std::string> reason) {
  domain::ReplayCandidate c;
  c.dlq_topic = "payment-service.dlq";
  c.original_topic = "order-events";
  c.event_type = "OrderCreated";
  c.dlq_reason = "gateway-unavailable";
  c.order_status = std::move(status);
  c.failure_reason = std::move(reason);
  return c;
}

TEST(PredictReplay, AGatewayFailureMayStillConfirm) {
  auto p = domain::predict_replay(payment_candidate("FAILED", "payment-gateway-unavailable"));
  EXPECT_EQ(p.goes_to, "order-events");
  EXPECT_TRUE(p.order_can_change);
  EXPECT_EQ(p.outcome, "may-confirm");
  EXPECT_NE(p.says.find("CONFIRMED"), std::string::npos);
}

TEST(PredictReplay, ADeclinedOrderNeverFlips) {
  auto p = domain::predict_replay(payment_candidate("FAILED", "card_declined"));
  EXPECT_EQ(p.goes_to, "order-events");
  EXPECT_FALSE(p.order_can_change);
  EXPECT_EQ(p.outcome, "no-change");
  EXPECT_NE(p.says.find("never flips"), std::string::npos);
}

TEST(PredictReplay, AConfirmedOrderStaysConfirmed) {
  auto p = domain::predict_replay(payment_candidate("CONFIRMED", std::nullopt));
  EXPECT_FALSE(p.order_can_change);
  EXPECT_EQ(p.outcome, "no-change");
}

TEST(PredictReplay, AlreadyReplayedAndUnreplayableRecordsAreSkipped) {
  auto c = payment_candidate("FAILED", "payment-gateway-unavailable");
  c.already_replayed = true;
  EXPECT_EQ(domain::predict_replay(c).outcome, "skipped");
  EXPECT_EQ(domain::predict_replay(c).goes_to, "");
  c.already_replayed = false;
  c.original_topic.clear();
  EXPECT_EQ(domain::predict_replay(c).outcome, "skipped");
}

TEST(PredictReplay, AnUnknownOrderIsRedelivered) {
  auto c = payment_candidate("FAILED", std::nullopt);
  c.order_status.reset();
  auto p = domain::predict_replay(c);
  EXPECT_EQ(p.outcome, "redeliver");
  EXPECT_EQ(p.goes_to, "order-events");
}

TEST(Charts, EveryChartHasAQuery) {
  EXPECT_GE(domain::charts().size(), 6u);
  for (const auto& c : domain::charts()) {
    EXPECT_FALSE(c.queries.empty()) << c.id;
    for (const auto& q : c.queries) EXPECT_FALSE(q.promql.empty()) << c.id;
  }
}

kafka::Record record(std::string topic, std::int64_t offset, std::string key, std::string type, std::int64_t ts) {
  kafka::Record r;
  r.topic = std::move(topic);
  r.partition = 2;
  r.offset = offset;
  r.key = std::move(key);
  r.value = R"({"orderId":"o-1","schemaVersion":1})";
  r.timestamp_ms = ts;
  r.headers = {{"ce_type", type}, {"ce_id", "id-" + std::to_string(offset)}, {"ce_correlationid", "corr"},
               {"traceparent", "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"}};
  return r;
}

TEST(EventIndex, StoresEachRecordOnceAndFindsAnOrdersRecordsInTimeOrder) {
  storage::Database db(":memory:");
  repository::EventIndex index(db);
  auto created = repository::to_indexed(record("order-events", 5, "o-1", "OrderCreated", 100));
  auto paid = repository::to_indexed(record("payment-events", 9, "o-1", "PaymentSuccess", 200));
  auto other = repository::to_indexed(record("order-events", 6, "o-2", "OrderCreated", 150));
  EXPECT_EQ(index.add({paid, created, other}), 3u);
  EXPECT_EQ(index.add({created}), 0u);  // a redelivery
  auto events = index.by_order("o-1");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "OrderCreated");
  EXPECT_EQ(events[0].ce_id, "id-5");
  EXPECT_EQ(events[0].correlation_id, "corr");
  EXPECT_EQ(events[0].partition, 2);
  EXPECT_EQ(events[1].type, "PaymentSuccess");
  EXPECT_NE(events[0].headers_json.find("traceparent"), std::string::npos);
  auto at = index.at("payment-events", 2, 9);
  ASSERT_TRUE(at);
  EXPECT_EQ(at->order_id, "o-1");
  EXPECT_FALSE(index.at("payment-events", 2, 10));
  EXPECT_EQ(index.count(), 3);
}

TEST(EventIndex, TakesTheOrderIdFromThePayloadWhenTheKeyIsEmpty) {
  auto r = record("order-events", 1, "", "OrderCreated", 1);
  EXPECT_EQ(repository::order_id_of(r), "o-1");
  r.value = "not json";
  EXPECT_EQ(repository::order_id_of(r), "");
}

}  // namespace
}  // namespace orderflow::console
