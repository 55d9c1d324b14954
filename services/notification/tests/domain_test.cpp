#include <gtest/gtest.h>

#include <vector>

#include "services/notification/domain/notification.hpp"
#include "services/notification/domain/retry.hpp"

namespace orderflow::notification::domain {
namespace {

events::OrderOutcome confirmed() {
  events::OrderOutcome e;
  e.order_id = "o-1";
  e.customer_email = "ann@example.com";
  e.currency = "EUR";
  e.total_amount = "25.00";
  e.confirmed = true;
  e.charge_id = "ch_123";
  e.at = "2026-01-31T12:00:00.000Z";
  return e;
}

events::OrderOutcome failed(std::string reason) {
  auto e = confirmed();
  e.confirmed = false;
  e.charge_id.clear();
  e.failure_reason = std::move(reason);
  return e;
}

TEST(NotificationOutcome, OnlyFinalOutcomesAreNotified) {
  EXPECT_EQ(outcome_of_event_type("OrderConfirmed"), Outcome::kConfirmed);
  EXPECT_EQ(outcome_of_event_type("OrderFailed"), Outcome::kFailed);
  EXPECT_EQ(outcome_of_event_type("OrderCreated"), std::nullopt);
  EXPECT_EQ(outcome_of_event_type("PaymentSuccess"), std::nullopt);
  EXPECT_EQ(outcome_of_event_type(""), std::nullopt);
}

TEST(NotificationOutcome, NamesRoundTrip) {
  EXPECT_EQ(outcome_name(Outcome::kConfirmed), "CONFIRMED");
  EXPECT_EQ(outcome_name(Outcome::kFailed), "FAILED");
  EXPECT_EQ(parse_outcome_name("CONFIRMED"), Outcome::kConfirmed);
  EXPECT_EQ(parse_outcome_name("FAILED"), Outcome::kFailed);
  EXPECT_EQ(parse_outcome_name("failed"), std::nullopt);
}

TEST(NotificationCompose, ConfirmedEmail) {
  auto m = compose(confirmed(), "shop.example");
  EXPECT_EQ(m.to, "ann@example.com");
  EXPECT_EQ(m.subject, "Your order o-1 is confirmed");
  EXPECT_NE(m.body.find("25.00 EUR"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("ch_123"), std::string::npos);
  EXPECT_NE(m.body.find("o-1"), std::string::npos);
  EXPECT_EQ(m.message_id, "<order-o-1.confirmed@shop.example>");
}

TEST(NotificationCompose, FailedEmailExplainsTheReason) {
  auto m = compose(failed("card_declined"), "shop.example");
  EXPECT_EQ(m.subject, "Your order o-1 could not be completed");
  EXPECT_NE(m.body.find("your card was declined"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("Failure reason: card_declined"), std::string::npos);
  EXPECT_NE(m.body.find("25.00 EUR"), std::string::npos);
  EXPECT_EQ(m.message_id, "<order-o-1.failed@shop.example>");

  auto gw = compose(failed("payment-gateway-unavailable"), "x");
  EXPECT_NE(gw.body.find("could not reach our payment provider"), std::string::npos) << gw.body;
  auto other = compose(failed("something_new"), "x");
  EXPECT_NE(other.body.find("the payment did not go through"), std::string::npos);
  EXPECT_NE(other.body.find("something_new"), std::string::npos);
}

TEST(NotificationCompose, MissingOptionalFieldsAreLeftOut) {
  auto e = confirmed();
  e.total_amount.clear();
  e.charge_id.clear();
  e.at.clear();
  auto m = compose(e, "");
  EXPECT_EQ(m.body.find("Amount"), std::string::npos) << m.body;
  EXPECT_EQ(m.body.find("Payment reference"), std::string::npos);
  EXPECT_EQ(m.message_id, "<order-o-1.confirmed@orderflow.local>");
  e.order_id = "o 1<x>";
  EXPECT_EQ(compose(e, "d").message_id, "<order-o_1_x_.confirmed@d>");
}

TEST(NotificationIdempotency, SendsOnlyWhenNothingIsKnown) {
  EXPECT_EQ(decide({}), Action::kSend);
  EXPECT_EQ(decide({.event_recorded = true, .outcome_recorded = true}), Action::kSkipRedelivered);
  EXPECT_EQ(decide({.event_recorded = false, .outcome_recorded = true}), Action::kSkipDuplicate);
  EXPECT_EQ(decide({.sent_not_recorded = true}), Action::kRecordOnly);
  EXPECT_EQ(decide({.event_recorded = false, .outcome_recorded = false, .sent_not_recorded = true}),
            Action::kRecordOnly);
}

struct FakeSleep {
  std::vector<std::chrono::milliseconds> waits;
  bool allow = true;
  bool operator()(std::chrono::milliseconds d) {
    waits.push_back(d);
    return allow;
  }
};

TEST(NotificationRetry, RetriesRetryableErrorsWithDoublingBackoff) {
  RetryPolicy policy{3, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)};
  int calls = 0;
  FakeSleep sleep;
  auto r = retry(
      policy,
      [&]() -> Status {
        ++calls;
        return Error{"smtp-unavailable", "down", true};
      },
      std::ref(sleep));
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(sleep.waits, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(100),
                                                                 std::chrono::milliseconds(200)}));
}

TEST(NotificationRetry, StopsOnSuccessAndOnPermanentErrors) {
  RetryPolicy policy;
  FakeSleep sleep;
  int calls = 0;
  auto ok = retry(
      policy,
      [&]() -> Status {
        return ++calls < 2 ? Status(Error{"x", "", true}) : ok_status();
      },
      std::ref(sleep));
  EXPECT_TRUE(ok.status.ok());
  EXPECT_EQ(ok.attempts, 2);

  calls = 0;
  auto rejected = retry(
      policy,
      [&]() -> Status {
        ++calls;
        return Error{"smtp-rejected", "550", false};
      },
      std::ref(sleep));
  EXPECT_EQ(rejected.attempts, 1);
  EXPECT_EQ(rejected.status.error().code, "smtp-rejected");
}

TEST(NotificationRetry, AStopCutsTheBackoffShort) {
  FakeSleep sleep;
  sleep.allow = false;
  int calls = 0;
  auto r = retry(
      RetryPolicy{},
      [&]() -> Status {
        ++calls;
        return Error{"smtp-unavailable", "down", true};
      },
      std::ref(sleep));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_FALSE(r.status.ok());
}

}  // namespace
}  // namespace orderflow::notification::domain
