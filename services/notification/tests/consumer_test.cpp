#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>

#include "libs/common/ids.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"
#include "services/notification/consumers/order_outcome_consumer.hpp"

namespace orderflow::notification::consumers {
namespace {

class FakeMailer final : public mail::Mailer {
 public:
  Status send(const mail::Message& m) override {
    std::lock_guard lock(mu);  // a batch's emails may go out from several threads
    attempts.push_back(m);
    if (!failures.empty()) {
      auto e = failures.front();
      failures.erase(failures.begin());
      return e;
    }
    sent.push_back(m);
    return ok_status();
  }
  std::string_view channel() const override { return "smtp"; }
  std::vector<mail::Message> attempts, sent;
  std::vector<Error> failures;
  std::mutex mu;
};

class NotificationConsumerTest : public ::testing::Test {
 protected:
  NotificationConsumerTest()
      : path_(std::filesystem::temp_directory_path() /
              ("notification-consumer-" + ids::uuid() + ".db")),
        db_(path_.string()),
        repo_(db_),
        probe_(registry_),
        consumer_(
            repo_, mailer_,
            [this](kafka::Record r) -> Status {
              if (dlq_fails_) return Error{"timeout", "broker down", true};
              dlq_.push_back(std::move(r));
              return ok_status();
            },
            [this](std::chrono::milliseconds d) {
              sleeps_.push_back(d);
              return !stopping_;
            },
            [] { return std::int64_t{1'769'860'800'000}; }, probe_,
            OrderOutcomeConsumer::Options{}) {}
  ~NotificationConsumerTest() override {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }

  static kafka::Record outcome_record(const std::string& order_id, bool confirmed,
                                      std::string event_id = ids::uuid()) {
    events::OrderOutcome e;
    e.order_id = order_id;
    e.customer_id = "c-42";
    e.customer_email = "ann@example.com";
    e.currency = "EUR";
    e.total_amount = "25.00";
    e.confirmed = confirmed;
    e.at = "2026-01-31T12:00:00.000Z";
    if (confirmed)
      e.charge_id = "ch_1";
    else
      e.failure_reason = "card_declined";
    auto ce = events::CloudEvent::make(confirmed ? "OrderConfirmed" : "OrderFailed",
                                       "order-service", "corr-" + order_id, trace::Context::root());
    ce.id = std::move(event_id);
    auto r = events::encode("order-events", order_id, ce, events::to_json(e));
    r.partition = 2;
    r.offset = 41;
    return r;
  }

  std::filesystem::path path_;
  storage::Database db_;
  repository::NotificationRepository repo_;
  metrics::Registry registry_;
  Probe probe_;
  FakeMailer mailer_;
  std::vector<kafka::Record> dlq_;
  bool dlq_fails_ = false;
  std::vector<std::chrono::milliseconds> sleeps_;
  bool stopping_ = false;
  OrderOutcomeConsumer consumer_;
};

TEST_F(NotificationConsumerTest, ConfirmedOrderIsMailedOnceAndRecorded) {
  auto record = outcome_record("o-1", true, "e-1");
  consumer_.handle(record);
  ASSERT_EQ(mailer_.sent.size(), 1u);
  EXPECT_EQ(mailer_.sent[0].to, "ann@example.com");
  EXPECT_EQ(mailer_.sent[0].from, "orderflow@localhost");
  EXPECT_EQ(mailer_.sent[0].subject, "Your order o-1 is confirmed");

  consumer_.handle(record);                              // redelivered
  consumer_.handle(outcome_record("o-1", true, "e-2"));  // same outcome, another event id
  EXPECT_EQ(mailer_.attempts.size(), 1u);
  EXPECT_TRUE(dlq_.empty());

  auto listed = repo_.list(std::string("o-1"), 100);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].event_id, "e-1");
  EXPECT_EQ(listed[0].outcome, domain::Outcome::kConfirmed);
  EXPECT_EQ(listed[0].channel, "smtp");
  EXPECT_EQ(listed[0].correlation_id, "corr-o-1");
  EXPECT_NE(
      registry_.render().find("notifications_sent_total{outcome=\"CONFIRMED\",channel=\"smtp\"} 1"),
      std::string::npos)
      << registry_.render();
}

TEST_F(NotificationConsumerTest, FailedOrderIsMailedWithTheReason) {
  consumer_.handle(outcome_record("o-2", false));
  ASSERT_EQ(mailer_.sent.size(), 1u);
  EXPECT_EQ(mailer_.sent[0].subject, "Your order o-2 could not be completed");
  EXPECT_NE(mailer_.sent[0].body.find("card_declined"), std::string::npos);
  EXPECT_EQ(repo_.list(std::string("o-2"), 100).at(0).outcome, domain::Outcome::kFailed);
}

TEST_F(NotificationConsumerTest, OtherEventTypesAreSkipped) {
  auto ce =
      events::CloudEvent::make("OrderCreated", "order-service", "corr", trace::Context::root());
  consumer_.handle(events::encode("order-events", "o-3", ce, {{"orderId", "o-3"}}));
  EXPECT_TRUE(mailer_.attempts.empty());
  EXPECT_TRUE(dlq_.empty());
}

TEST_F(NotificationConsumerTest, MalformedAndUnknownVersionsGoToTheDlq) {
  kafka::Record junk;
  junk.topic = "order-events";
  junk.key = "o-4";
  junk.value = "not json";
  junk.partition = 1;
  junk.offset = 7;
  consumer_.handle(junk);

  auto v2 = outcome_record("o-5", true);
  v2.value = R"({"schemaVersion":2,"orderId":"o-5"})";
  consumer_.handle(v2);

  auto missing = outcome_record("o-6", false);
  missing.value =
      R"({"schemaVersion":1,"orderId":"o-6","customerEmail":"ann@example.com"})";  // no
                                                                                   // failureReason
  consumer_.handle(missing);

  EXPECT_TRUE(mailer_.attempts.empty());
  ASSERT_EQ(dlq_.size(), 3u);
  EXPECT_EQ(dlq_[0].topic, "notification-service.dlq");
  EXPECT_EQ(dlq_[0].key, "o-4");
  EXPECT_EQ(dlq_[0].value, "not json");
  EXPECT_EQ(dlq_[0].header("dlq-reason"), "malformed-event");
  EXPECT_EQ(dlq_[0].header("dlq-attempts"), "1");
  EXPECT_EQ(dlq_[0].header("dlq-consumer-group"), "notification-service");
  EXPECT_EQ(dlq_[0].header("dlq-original-topic"), "order-events");
  EXPECT_EQ(dlq_[0].header("dlq-original-offset"), "7");
  EXPECT_EQ(dlq_[1].header("dlq-reason"), "unsupported-schema-version");
  EXPECT_EQ(dlq_[1].header("ce_type"), "OrderConfirmed");  // the original headers are kept
  EXPECT_EQ(dlq_[2].header("dlq-reason"), "malformed-event");
}

TEST_F(NotificationConsumerTest, SmtpOutageIsRetriedThenDeadLettered) {
  mailer_.failures.assign(3, Error{"smtp-unavailable", "connection refused", true});
  consumer_.handle(outcome_record("o-7", true));
  EXPECT_EQ(mailer_.attempts.size(), 3u);
  EXPECT_EQ(sleeps_.size(), 2u);
  ASSERT_EQ(dlq_.size(), 1u);
  EXPECT_EQ(dlq_[0].header("dlq-reason"), "smtp-unavailable");
  EXPECT_EQ(dlq_[0].header("dlq-attempts"), "3");
  EXPECT_EQ(dlq_[0].header("dlq-error-message"), "connection refused");
  EXPECT_TRUE(repo_.list(std::string("o-7"), 100).empty());
}

TEST_F(NotificationConsumerTest, TransientSmtpFailureRecovers) {
  mailer_.failures.assign(1, Error{"smtp-unavailable", "timeout", true});
  consumer_.handle(outcome_record("o-8", true));
  EXPECT_EQ(mailer_.sent.size(), 1u);
  EXPECT_TRUE(dlq_.empty());
  EXPECT_EQ(repo_.list(std::string("o-8"), 100).size(), 1u);
}

TEST_F(NotificationConsumerTest, RejectedMailIsNotRetried) {
  mailer_.failures.assign(1, Error{"smtp-rejected", "550 no such user", false});
  consumer_.handle(outcome_record("o-9", true));
  EXPECT_EQ(mailer_.attempts.size(), 1u);
  ASSERT_EQ(dlq_.size(), 1u);
  EXPECT_EQ(dlq_[0].header("dlq-reason"), "smtp-rejected");
}

TEST_F(NotificationConsumerTest, StoppingHandsTheRecordBackInsteadOfDeadLettering) {
  stopping_ = true;
  mailer_.failures.assign(3, Error{"smtp-unavailable", "down", true});
  EXPECT_THROW(consumer_.handle(outcome_record("o-10", true)), std::runtime_error);
  EXPECT_TRUE(dlq_.empty());

  mailer_.failures.assign(1, Error{"cancelled", "stopping", false});
  stopping_ = false;
  EXPECT_THROW(consumer_.handle(outcome_record("o-11", true)), std::runtime_error);
  EXPECT_TRUE(dlq_.empty());
}

TEST_F(NotificationConsumerTest, DlqOutageAsksForRedelivery) {
  dlq_fails_ = true;
  kafka::Record junk;
  junk.topic = "order-events";
  junk.value = "{";
  EXPECT_THROW(consumer_.handle(junk), std::runtime_error);
}

// A wave of a poll batch: each record decided as one by one, the sent emails recorded
// together; a redelivery of the wave sends nothing again.
TEST_F(NotificationConsumerTest, ABatchMailsEachOutcomeOnceDeadLettersThePoisonAndRecordsTogether) {
  kafka::Record junk;
  junk.topic = "order-events";
  junk.key = "o-20";
  junk.value = "not json";
  std::vector<kafka::Record> records{outcome_record("o-21", true), junk, outcome_record("o-22", false)};
  std::vector<kafka::Delivery> wave;
  for (const auto& r : records) wave.push_back({&r, trace::Context::root()});
  WorkPool pool(2, "test-senders");
  consumer_.handle_batch(wave, &pool);
  EXPECT_EQ(mailer_.sent.size(), 2u);
  ASSERT_EQ(dlq_.size(), 1u);
  EXPECT_EQ(dlq_[0].key, "o-20");
  EXPECT_EQ(repo_.list(std::string("o-21"), 100).size(), 1u);
  EXPECT_EQ(repo_.list(std::string("o-22"), 100).size(), 1u);

  consumer_.handle_batch(wave, nullptr);  // the whole wave redelivered
  EXPECT_EQ(mailer_.attempts.size(), 2u) << "no email twice";
}

// One record of a wave cannot be decided (the service is stopping): the wave is handed back,
// but the emails already sent are recorded first, so the retry sends only what was not sent.
TEST_F(NotificationConsumerTest, ABatchRecordsWhatItSentBeforeHandingTheWaveBack) {
  std::vector<kafka::Record> records{outcome_record("o-30", true), outcome_record("o-31", true)};
  std::vector<kafka::Delivery> wave;
  for (const auto& r : records) wave.push_back({&r, trace::Context::root()});
  mailer_.failures.assign(1, Error{"cancelled", "stopping", false});  // o-30's send
  EXPECT_THROW(consumer_.handle_batch(wave, nullptr), std::runtime_error);
  EXPECT_EQ(mailer_.sent.size(), 1u);
  EXPECT_TRUE(repo_.list(std::string("o-30"), 100).empty());
  EXPECT_EQ(repo_.list(std::string("o-31"), 100).size(), 1u) << "o-31's email is recorded";

  consumer_.handle_batch(wave, nullptr);
  ASSERT_EQ(mailer_.sent.size(), 2u);
  EXPECT_EQ(mailer_.sent[1].subject, "Your order o-30 is confirmed");
  EXPECT_EQ(repo_.list(std::string("o-30"), 100).size(), 1u);
  EXPECT_EQ(mailer_.attempts.size(), 3u) << "o-31 was not sent again";
}

}  // namespace
}  // namespace orderflow::notification::consumers
