#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "services/alerting/domain/alert.hpp"

namespace orderflow::alerting::domain {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kWindow{60'000};

DlqEntry entry() {
  DlqEntry e;
  e.topic = "payment-service.dlq";
  e.partition = 0;
  e.offset = 7;
  e.reason = "gateway-unavailable";
  e.order_id = "o-1";
  e.error_message = "HTTP 500 from gateway";
  e.correlation_id = "corr-1";
  e.event_type = "OrderCreated";
  e.original_topic = "order-events";
  e.original_partition = 3;
  e.original_offset = 42;
  e.consumer_group = "payment-service";
  e.attempts = 5;
  e.first_failure_time = "2026-01-31T12:00:00.000Z";
  e.last_failure_time = "2026-01-31T12:01:00.000Z";
  return e;
}

TEST(AlertGrouping, FirstRecordOpensAWindow) {
  auto a = admit(std::nullopt, "t.dlq", "r", 1'000, kWindow);
  EXPECT_TRUE(a.new_window);
  EXPECT_EQ(a.group.topic, "t.dlq");
  EXPECT_EQ(a.group.reason, "r");
  EXPECT_EQ(a.group.window_start_ms, 1'000);
  EXPECT_EQ(a.group.count, 1);
  EXPECT_FALSE(a.group.emailed);
}

TEST(AlertGrouping, RecordsInsideTheWindowOnlyCount) {
  Group g;
  g.id = 5;
  g.topic = "t.dlq";
  g.reason = "r";
  g.window_start_ms = 1'000;
  g.count = 3;
  g.emailed = true;
  auto a = admit(g, "t.dlq", "r", 1'000 + 59'999, kWindow);
  EXPECT_FALSE(a.new_window);
  EXPECT_EQ(a.group.id, 5);
  EXPECT_EQ(a.group.count, 4);
  EXPECT_TRUE(a.group.emailed);
}

TEST(AlertGrouping, WindowEndOpensANewOne) {
  Group g;
  g.id = 5;
  g.window_start_ms = 1'000;
  g.count = 9;
  g.emailed = true;
  auto a = admit(g, "t.dlq", "r", 61'000, kWindow);  // exactly at the end: a new window
  EXPECT_TRUE(a.new_window);
  EXPECT_EQ(a.group.count, 1);
  EXPECT_EQ(a.group.window_start_ms, 61'000);
  EXPECT_FALSE(a.group.emailed);
  // A clock that went backwards does not silently fold alerts into a future window.
  EXPECT_TRUE(admit(g, "t.dlq", "r", 500, kWindow).new_window);
}

TEST(AlertPlan, FirstRecordOfAWindowSendsBoth) {
  Group g;
  g.count = 1;
  auto p = plan(g, 1'000, milliseconds(30'000), true);
  EXPECT_TRUE(p.email);
  EXPECT_TRUE(p.webhook);
  EXPECT_FALSE(plan(g, 1'000, milliseconds(30'000), false).webhook);
}

TEST(AlertPlan, SentMessagesAreNotRepeated) {
  Group g;
  g.emailed = true;
  g.email_attempt_ms = 1'000;
  g.webhook = "ok";
  g.webhook_attempt_ms = 1'000;
  auto p = plan(g, 1'000'000, milliseconds(30'000), true);
  EXPECT_FALSE(p.email);
  EXPECT_FALSE(p.webhook);
}

TEST(AlertPlan, FailuresAreRetriedAtMostOncePerInterval) {
  Group g;
  g.emailed = false;
  g.email_attempt_ms = 10'000;
  g.webhook = "failed";
  g.webhook_attempt_ms = 10'000;
  auto soon = plan(g, 39'999, milliseconds(30'000), true);
  EXPECT_FALSE(soon.email);
  EXPECT_FALSE(soon.webhook);
  auto later = plan(g, 40'000, milliseconds(30'000), true);
  EXPECT_TRUE(later.email);
  EXPECT_TRUE(later.webhook);
}

TEST(AlertCompose, SubjectAndBodyTellWhatHappenedAndWhereToLook) {
  Group g;
  g.window_start_ms = 1'769'860'800'000;
  g.count = 1;
  auto m = compose(entry(), g, kWindow, Links{"http://alerts:8083", "kafka:9092"});
  EXPECT_EQ(m.subject, "[orderflow] DLQ alert: payment-service.dlq gateway-unavailable");
  for (const char* expected :
       {"o-1", "gateway-unavailable", "HTTP 500 from gateway", "corr-1", "OrderCreated",
        "order-events, partition 3, offset 42", "payment-service", "Attempts:        5",
        "payment-service.dlq, partition 0, offset 7", "60 s window",
        "curl -s 'http://alerts:8083/api/v1/alerts?orderId=o-1'",
        "kcat -C -b kafka:9092 -t 'payment-service.dlq' -p 0 -o 7 -c 1"}) {
    EXPECT_NE(m.body.find(expected), std::string::npos) << "missing '" << expected << "' in\n"
                                                        << m.body;
  }
}

TEST(AlertCompose, MissingDetailsAreShownAsDashes) {
  DlqEntry e;
  e.topic = "x.dlq";
  e.reason = "unknown";
  e.partition = 1;
  e.offset = 2;
  auto m = compose(e, Group{}, kWindow, Links{});
  EXPECT_NE(m.body.find("Order id:        -"), std::string::npos) << m.body;
  EXPECT_EQ(m.body.find("Original record"), std::string::npos);
}

TEST(AlertWebhook, BodyFitsTheServiceNowIncidentTable) {
  Group g;
  g.window_start_ms = 5;
  auto e = entry();
  auto m = compose(e, g, kWindow, Links{});
  auto body = webhook_body(e, g, m);
  EXPECT_EQ(body.size(), 6u) << boost::json::serialize(body);
  EXPECT_EQ(body.at("short_description").as_string(), m.subject);
  EXPECT_EQ(body.at("description").as_string(), m.body);
  EXPECT_EQ(body.at("urgency").as_string(), "2");
  EXPECT_EQ(body.at("impact").as_string(), "2");
  EXPECT_EQ(body.at("correlation_id").as_string(), "corr-1");
  EXPECT_EQ(body.at("category").as_string(), "orderflow-dlq");

  e.correlation_id.clear();
  EXPECT_EQ(webhook_body(e, g, m).at("correlation_id").as_string(),
            "orderflow-dlq:payment-service.dlq:gateway-unavailable:5");
  e.correlation_id = std::string(300, 'c');
  m.subject = std::string(300, 's');
  auto capped = webhook_body(e, g, m);
  EXPECT_EQ(capped.at("correlation_id").as_string().size(), 100u);
  EXPECT_EQ(capped.at("short_description").as_string().size(), 160u);
}

}  // namespace
}  // namespace orderflow::alerting::domain
