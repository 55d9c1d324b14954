#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <filesystem>

#include "libs/common/ids.hpp"
#include "services/alerting/consumers/dlq_consumer.hpp"

namespace orderflow::alerting::consumers {
namespace {

class FakeMailer final : public mail::Mailer {
 public:
  Status send(const mail::Message& m) override {
    attempts.push_back(m);
    if (fail) return Error{fail_code, "smtp down", fail_code != "cancelled"};
    return ok_status();
  }
  std::string_view channel() const override { return "smtp"; }
  std::vector<mail::Message> attempts;
  bool fail = false;
  std::string fail_code = "smtp-unavailable";
};

class FakeWebhook final : public clients::Webhook {
 public:
  Status post(std::string_view body) override {
    bodies.emplace_back(body);
    if (fail) return Error{"webhook-unavailable", "refused", true};
    return ok_status();
  }
  std::vector<std::string> bodies;
  bool fail = false;
};

kafka::Record dlq_record(std::string topic, std::int64_t offset, std::string reason,
                         std::string order_id) {
  kafka::Record r;
  r.topic = std::move(topic);
  r.partition = 0;
  r.offset = offset;
  r.key = std::move(order_id);
  r.value = R"({"orderId":"x"})";
  r.headers = {{"ce_type", "OrderCreated"},
               {"ce_correlationid", "corr-" + r.key},
               {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
               {"dlq-original-topic", "order-events"},
               {"dlq-original-partition", "3"},
               {"dlq-original-offset", "42"},
               {"dlq-consumer-group", "payment-service"},
               {"dlq-reason", std::move(reason)},
               {"dlq-error-message", "HTTP 500"},
               {"dlq-attempts", "5"},
               {"dlq-first-failure-time", "2026-01-31T12:00:00.000Z"},
               {"dlq-last-failure-time", "2026-01-31T12:01:00.000Z"}};
  return r;
}

TEST(AlertToEntry, ReadsKeyPositionAndDlqHeaders) {
  auto e = to_entry(dlq_record("payment-service.dlq", 7, "gateway-unavailable", "o-1"));
  EXPECT_EQ(e.topic, "payment-service.dlq");
  EXPECT_EQ(e.partition, 0);
  EXPECT_EQ(e.offset, 7);
  EXPECT_EQ(e.order_id, "o-1");
  EXPECT_EQ(e.reason, "gateway-unavailable");
  EXPECT_EQ(e.error_message, "HTTP 500");
  EXPECT_EQ(e.correlation_id, "corr-o-1");
  EXPECT_EQ(e.event_type, "OrderCreated");
  EXPECT_EQ(e.original_topic, "order-events");
  EXPECT_EQ(e.original_partition, 3);
  EXPECT_EQ(e.original_offset, 42);
  EXPECT_EQ(e.consumer_group, "payment-service");
  EXPECT_EQ(e.attempts, 5);

  kafka::Record bare;
  bare.topic = "x.dlq";
  bare.headers = {{"dlq-attempts", "many"}};
  auto b = to_entry(bare);
  EXPECT_EQ(b.reason, "unknown");
  EXPECT_EQ(b.attempts, 0);
  EXPECT_EQ(b.original_partition, -1);
}

class AlertConsumerTest : public ::testing::Test {
 protected:
  AlertConsumerTest()
      : path_(std::filesystem::temp_directory_path() /
              ("alerting-consumer-" + ids::uuid() + ".db")),
        db_(path_.string()),
        repo_(db_),
        probe_(registry_) {}
  ~AlertConsumerTest() override {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }

  DlqConsumer make(bool with_webhook) {
    DlqConsumer::Options o;
    o.email_to = "ops@example.com";
    o.window = std::chrono::milliseconds(60'000);
    o.retry_interval = std::chrono::milliseconds(10'000);
    return DlqConsumer(
        repo_, mailer_, with_webhook ? &webhook_ : nullptr, [this] { return now_; }, probe_, o);
  }

  std::filesystem::path path_;
  storage::Database db_;
  repository::AlertRepository repo_;
  metrics::Registry registry_;
  Probe probe_;
  FakeMailer mailer_;
  FakeWebhook webhook_;
  std::int64_t now_ = 1'769'860'800'000;
};

TEST_F(AlertConsumerTest, OneEmailAndWebhookPerTopicReasonAndWindow) {
  auto consumer = make(true);
  consumer.handle(dlq_record("payment-service.dlq", 0, "gateway-unavailable", "o-1"));
  ASSERT_EQ(mailer_.attempts.size(), 1u);
  EXPECT_EQ(mailer_.attempts[0].to, "ops@example.com");
  EXPECT_EQ(mailer_.attempts[0].subject,
            "[orderflow] DLQ alert: payment-service.dlq gateway-unavailable");
  EXPECT_NE(mailer_.attempts[0].body.find("o-1"), std::string::npos);
  ASSERT_EQ(webhook_.bodies.size(), 1u);
  auto json = boost::json::parse(webhook_.bodies[0]).as_object();
  EXPECT_EQ(json.at("category").as_string(), "orderflow-dlq");
  EXPECT_EQ(json.at("correlation_id").as_string(), "corr-o-1");

  now_ += 1'000;
  consumer.handle(dlq_record("payment-service.dlq", 1, "gateway-unavailable", "o-2"));
  consumer.handle(
      dlq_record("payment-service.dlq", 1, "gateway-unavailable", "o-2"));  // redelivered
  EXPECT_EQ(mailer_.attempts.size(), 1u);
  EXPECT_EQ(webhook_.bodies.size(), 1u);

  consumer.handle(
      dlq_record("notification-service.dlq", 0, "malformed-event", "o-3"));  // another group
  EXPECT_EQ(mailer_.attempts.size(), 2u);

  auto alerts = repo_.list(std::nullopt, 100);
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[1].entry.order_id, "o-2");
  EXPECT_EQ(alerts[1].group.count, 2);
  EXPECT_TRUE(alerts[1].group.emailed);
  EXPECT_EQ(alerts[1].group.webhook, "ok");

  now_ += 60'000;  // the window has passed
  consumer.handle(dlq_record("payment-service.dlq", 2, "gateway-unavailable", "o-4"));
  EXPECT_EQ(mailer_.attempts.size(), 3u);
  EXPECT_EQ(repo_.list(std::string("o-4"), 1).at(0).group.count, 1);

  auto metrics = registry_.render();
  EXPECT_NE(
      metrics.find(
          "alerts_raised_total{topic=\"payment-service.dlq\",reason=\"gateway-unavailable\"} 3"),
      std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("alert_emails_total 3"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("alert_webhooks_total{result=\"ok\"} 3"), std::string::npos) << metrics;
}

TEST_F(AlertConsumerTest, FailedEmailIsRetriedByALaterRecordNotByEveryRecord) {
  auto consumer = make(false);
  mailer_.fail = true;
  consumer.handle(dlq_record("p.dlq", 0, "gw", "o-1"));
  EXPECT_EQ(mailer_.attempts.size(), 1u);
  EXPECT_FALSE(repo_.list(std::nullopt, 1).at(0).group.emailed);

  now_ += 1'000;
  consumer.handle(dlq_record("p.dlq", 1, "gw", "o-2"));  // within the retry interval: no try
  EXPECT_EQ(mailer_.attempts.size(), 1u);

  mailer_.fail = false;
  now_ += 10'000;
  consumer.handle(dlq_record("p.dlq", 2, "gw", "o-3"));
  EXPECT_EQ(mailer_.attempts.size(), 2u);
  EXPECT_NE(mailer_.attempts[1].body.find("so far: 3"), std::string::npos)
      << mailer_.attempts[1].body;
  auto alerts = repo_.list(std::nullopt, 100);
  EXPECT_TRUE(alerts.at(0).group.emailed);
  EXPECT_EQ(alerts.at(0).group.webhook, "pending");  // no webhook configured
  EXPECT_NE(registry_.render().find("alert_email_failures_total 1"), std::string::npos);
}

TEST_F(AlertConsumerTest, WebhookFailureIsCountedAndDoesNotStopTheEmail) {
  auto consumer = make(true);
  webhook_.fail = true;
  consumer.handle(dlq_record("p.dlq", 0, "gw", "o-1"));
  EXPECT_EQ(mailer_.attempts.size(), 1u);
  EXPECT_EQ(repo_.list(std::nullopt, 1).at(0).group.webhook, "failed");
  EXPECT_NE(registry_.render().find("alert_webhooks_total{result=\"failed\"} 1"),
            std::string::npos);
}

TEST_F(AlertConsumerTest, StoppingMidSendHandsTheRecordBack) {
  auto consumer = make(false);
  mailer_.fail = true;
  mailer_.fail_code = "cancelled";
  EXPECT_THROW(consumer.handle(dlq_record("p.dlq", 0, "gw", "o-1")), std::runtime_error);
  // After the restart the record is redelivered: not counted twice, and the email goes out.
  mailer_.fail = false;
  consumer.handle(dlq_record("p.dlq", 0, "gw", "o-1"));
  EXPECT_EQ(mailer_.attempts.size(), 2u);
  auto alerts = repo_.list(std::nullopt, 100);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].group.count, 1);
  EXPECT_TRUE(alerts[0].group.emailed);
}

}  // namespace
}  // namespace orderflow::alerting::consumers
