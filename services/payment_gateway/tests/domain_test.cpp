// The gateway's pure logic: token outcomes, tok_flaky's attempt counting, request and
// fault validation, and the idempotency decision.
#include <gtest/gtest.h>

#include <variant>

#include "services/payment_gateway/domain/charge.hpp"
#include "services/payment_gateway/domain/faults.hpp"
#include "services/payment_gateway/domain/tokens.hpp"

namespace orderflow::payment_gateway {
namespace {

using Kind = ChargeDecision::Kind;

ChargeFields valid_fields() { return {"o-1", "25.00", "EUR", "tok_visa"}; }

ChargeRequest valid_request() { return std::get<ChargeRequest>(validate_charge(valid_fields())); }

bool has_violation(const Violations& v, const std::string& field) {
  for (const auto& x : v) {
    if (x.field == field) return true;
  }
  return false;
}

// ----------------------------------------------------------------------------- tokens

TEST(Tokens, SuccessTokensSucceedOnTheFirstAttempt) {
  for (auto token : {"tok_visa", "tok_mastercard"}) {
    auto d = decide_charge(token, 1);
    EXPECT_EQ(d.kind, Kind::kSucceed) << token;
    EXPECT_EQ(d.http_status, 200);
    EXPECT_TRUE(d.final());
    EXPECT_FALSE(d.delayed);
  }
}

TEST(Tokens, DeclinesAreFinal402WithTheirCodes) {
  auto d = decide_charge("tok_chargeDeclined", 1);
  EXPECT_EQ(d.kind, Kind::kDecline);
  EXPECT_EQ(d.http_status, 402);
  EXPECT_EQ(d.code, "card_declined");
  EXPECT_EQ(d.decline_code, "generic_decline");
  EXPECT_FALSE(d.message.empty());
  EXPECT_TRUE(d.final());

  auto f = decide_charge("tok_chargeDeclinedInsufficientFunds", 1);
  EXPECT_EQ(f.http_status, 402);
  EXPECT_EQ(f.code, "insufficient_funds");
  EXPECT_TRUE(f.final());
}

TEST(Tokens, ProcessingErrorIsAlways500AndNeverFinal) {
  for (int attempt = 1; attempt <= 10; ++attempt) {
    auto d = decide_charge("tok_processingError", attempt);
    EXPECT_EQ(d.kind, Kind::kError);
    EXPECT_EQ(d.http_status, 500);
    EXPECT_EQ(d.code, "processing_error");
    EXPECT_FALSE(d.final());
  }
}

TEST(Tokens, FlakyFailsItsFirstTwoAttemptsThenSucceeds) {
  ASSERT_EQ(kFlakyFailures, 2);
  for (int attempt = 1; attempt <= kFlakyFailures; ++attempt) {
    auto d = decide_charge("tok_flaky", attempt);
    EXPECT_EQ(d.http_status, 503) << attempt;
    EXPECT_FALSE(d.final());
  }
  for (int attempt = kFlakyFailures + 1; attempt <= 5; ++attempt) {
    auto d = decide_charge("tok_flaky", attempt);
    EXPECT_EQ(d.kind, Kind::kSucceed) << attempt;
    EXPECT_TRUE(d.final());
  }
}

TEST(Tokens, SlowSucceedsButIsDelayed) {
  auto d = decide_charge("tok_slow", 1);
  EXPECT_EQ(d.kind, Kind::kSucceed);
  EXPECT_TRUE(d.delayed);
}

TEST(Tokens, UnknownTokenIsAFinalInvalidSourceDecline) {
  for (auto token : {"tok_nope", "pm_card_visa", "TOK_VISA", "tok_visa "}) {
    auto d = decide_charge(token, 1);
    EXPECT_EQ(d.kind, Kind::kDecline) << token;
    EXPECT_EQ(d.http_status, 402);
    EXPECT_EQ(d.code, "invalid_source");
    EXPECT_TRUE(d.final());
  }
  EXPECT_EQ(profile_for("tok_nope").behaviour, CardBehaviour::kUnknown);
}

// ----------------------------------------------------------------------------- request

TEST(ChargeValidation, AcceptsAValidRequestAndNormalisesCurrency) {
  auto fields = valid_fields();
  fields.currency = "eur";
  fields.amount = "12.5";
  auto result = validate_charge(fields);
  ASSERT_TRUE(std::holds_alternative<ChargeRequest>(result));
  const auto& r = std::get<ChargeRequest>(result);
  EXPECT_EQ(r.order_id, "o-1");
  EXPECT_EQ(r.amount.minor(), 1250);
  EXPECT_EQ(r.currency, "EUR");
  EXPECT_EQ(r.source, "tok_visa");
}

TEST(ChargeValidation, ReportsEveryMissingField) {
  auto result = validate_charge(ChargeFields{});
  ASSERT_TRUE(std::holds_alternative<Violations>(result));
  const auto& v = std::get<Violations>(result);
  EXPECT_EQ(v.size(), 4u);
  for (auto field : {"orderId", "amount", "currency", "source"}) EXPECT_TRUE(has_violation(v, field)) << field;
}

TEST(ChargeValidation, RejectsBadAmounts) {
  for (auto amount : {"", "abc", "1.234", "-5", "0", "0.00", "1e3", "25,00", "100000000000.01"}) {
    auto fields = valid_fields();
    fields.amount = amount;
    auto result = validate_charge(fields);
    ASSERT_TRUE(std::holds_alternative<Violations>(result)) << amount;
    EXPECT_TRUE(has_violation(std::get<Violations>(result), "amount")) << amount;
  }
}

TEST(ChargeValidation, RejectsBadCurrencyAndEmptyOrLongText) {
  auto fields = valid_fields();
  fields.currency = "EURO";
  fields.order_id = "";
  fields.source = std::string(300, 'x');
  auto v = std::get<Violations>(validate_charge(fields));
  EXPECT_TRUE(has_violation(v, "currency"));
  EXPECT_TRUE(has_violation(v, "orderId"));
  EXPECT_TRUE(has_violation(v, "source"));
}

TEST(ChargeValidation, RejectsRawCardNumbersWithoutEchoingThem) {
  for (auto pan : {"4242424242424242", "4242 4242 4242 4242", "5555-5555-5555-4444"}) {
    auto fields = valid_fields();
    fields.source = pan;
    auto v = std::get<Violations>(validate_charge(fields));
    ASSERT_TRUE(has_violation(v, "source")) << pan;
    for (const auto& x : v) EXPECT_EQ(x.message.find(pan), std::string::npos);
  }
  EXPECT_FALSE(looks_like_card_number("tok_visa"));
  EXPECT_FALSE(looks_like_card_number("12345"));
  EXPECT_TRUE(looks_like_card_number("378282246310005"));
}

TEST(ChargeValidation, IdempotencyKeyRules) {
  EXPECT_FALSE(idempotency_key_problem("order-42").has_value());
  EXPECT_TRUE(idempotency_key_problem("").has_value());
  EXPECT_TRUE(idempotency_key_problem(std::string(256, 'k')).has_value());
  EXPECT_FALSE(idempotency_key_problem(std::string(255, 'k')).has_value());
  EXPECT_TRUE(idempotency_key_problem("a\nb").has_value());
}

// ----------------------------------------------------------------------------- idempotency

TEST(Idempotency, SameParametersHaveTheSameFingerprint) {
  auto a = valid_request();
  auto fields = valid_fields();
  fields.amount = "25.0";
  fields.currency = "eur";
  auto b = std::get<ChargeRequest>(validate_charge(fields));
  EXPECT_EQ(fingerprint(a), fingerprint(b));
}

TEST(Idempotency, AnyDifferentParameterChangesTheFingerprint) {
  const auto base = fingerprint(valid_request());
  auto r = valid_request();
  r.amount = Money::from_minor(2501);
  EXPECT_NE(fingerprint(r), base);
  r = valid_request();
  r.currency = "USD";
  EXPECT_NE(fingerprint(r), base);
  r = valid_request();
  r.order_id = "o-2";
  EXPECT_NE(fingerprint(r), base);
  r = valid_request();
  r.source = "tok_mastercard";
  EXPECT_NE(fingerprint(r), base);
}

TEST(Idempotency, ClassifiesKeyUse) {
  const auto fp = fingerprint(valid_request());
  EXPECT_EQ(classify_key(std::nullopt, fp), KeyUse::kFirst);
  EXPECT_EQ(classify_key(StoredKey{fp, false}, fp), KeyUse::kRetry);
  EXPECT_EQ(classify_key(StoredKey{fp, true}, fp), KeyUse::kReplay);
  EXPECT_EQ(classify_key(StoredKey{"other", true}, fp), KeyUse::kMismatch);
  EXPECT_EQ(classify_key(StoredKey{"other", false}, fp), KeyUse::kMismatch);
}

// ----------------------------------------------------------------------------- faults

TEST(Faults, DefaultsAreValidAndInjectNothing) {
  FaultConfig c;
  EXPECT_TRUE(validate(c).empty());
  auto plan = plan_faults(c, 0.0, 0.999);
  EXPECT_EQ(plan.action, FaultPlan::Action::kNone);
  EXPECT_EQ(plan.delay.count(), 0);
}

TEST(Faults, ValidationRejectsOutOfRangeValues) {
  FaultConfig c;
  c.error_rate = 1.5;
  c.latency_ms = -1;
  c.latency_jitter_ms = kMaxInjectedLatencyMs + 1;
  auto v = validate(c);
  EXPECT_TRUE(has_violation(v, "errorRate"));
  EXPECT_TRUE(has_violation(v, "latencyMs"));
  EXPECT_TRUE(has_violation(v, "latencyJitterMs"));
  c = {};
  c.error_rate = -0.1;
  EXPECT_TRUE(has_violation(validate(c), "errorRate"));
  c.error_rate = 1.0;
  EXPECT_TRUE(validate(c).empty());
}

TEST(Faults, ErrorRateIsAFractionOfCalls) {
  FaultConfig c;
  c.error_rate = 0.3;
  EXPECT_EQ(plan_faults(c, 0.29, 0).action, FaultPlan::Action::kError);
  EXPECT_EQ(plan_faults(c, 0.30, 0).action, FaultPlan::Action::kNone);
  c.error_rate = 1.0;
  EXPECT_EQ(plan_faults(c, 0.9999, 0).action, FaultPlan::Action::kError);
  c.error_rate = 0.0;
  EXPECT_EQ(plan_faults(c, 0.0, 0).action, FaultPlan::Action::kNone);
}

TEST(Faults, OutageWinsOverErrorRate) {
  FaultConfig c;
  c.outage = true;
  c.error_rate = 1.0;
  EXPECT_EQ(plan_faults(c, 0.0, 0).action, FaultPlan::Action::kOutage);
}

TEST(Faults, ResetAfterCommitIsAFractionOfProcessedCalls) {
  FaultConfig c;
  c.reset_after_commit_rate = 0.3;
  EXPECT_TRUE(plan_faults(c, 1, 0, 0.29).reset_after_commit);
  EXPECT_FALSE(plan_faults(c, 1, 0, 0.30).reset_after_commit);
  EXPECT_FALSE(plan_faults(c, 1, 0).reset_after_commit) << "no roll given: never";
  c.error_rate = 1.0;
  EXPECT_FALSE(plan_faults(c, 0, 0, 0).reset_after_commit) << "a call failed up front is not processed";
  c.reset_after_commit_rate = -0.1;
  EXPECT_EQ(validate(c).front().field, "resetAfterCommitRate");
}

TEST(Faults, LatencyIsFixedPlusUniformJitter) {
  FaultConfig c;
  c.latency_ms = 100;
  c.latency_jitter_ms = 50;
  EXPECT_EQ(plan_faults(c, 1, 0.0).delay.count(), 100);
  EXPECT_EQ(plan_faults(c, 1, 0.5).delay.count(), 125);
  EXPECT_EQ(plan_faults(c, 1, 0.99999).delay.count(), 150);
}

TEST(Faults, PatchUpdatesOnlyGivenMembers) {
  FaultConfig base;
  base.latency_ms = 10;
  FaultPatch patch;
  patch.error_rate = 0.5;
  auto next = apply(base, patch);
  EXPECT_EQ(next.error_rate, 0.5);
  EXPECT_EQ(next.latency_ms, 10);
  EXPECT_FALSE(next.outage);
}

TEST(Faults, StateRejectsAnInvalidPatchAndKeepsTheOldConfig) {
  FaultState state(FaultConfig{0.1, 5, 0, false});
  FaultPatch bad;
  bad.error_rate = 0.2;
  bad.latency_ms = -3;
  EXPECT_TRUE(has_violation(state.update(bad), "latencyMs"));
  EXPECT_EQ(state.snapshot(), (FaultConfig{0.1, 5, 0, false}));

  FaultPatch good;
  good.outage = true;
  EXPECT_TRUE(state.update(good).empty());
  EXPECT_EQ(state.snapshot(), (FaultConfig{0.1, 5, 0, true}));
}

TEST(Faults, ParsesFractions) {
  EXPECT_EQ(parse_fraction("0.3"), 0.3);
  EXPECT_EQ(parse_fraction("1"), 1.0);
  EXPECT_FALSE(parse_fraction("30%").has_value());
  EXPECT_FALSE(parse_fraction("").has_value());
  EXPECT_FALSE(parse_fraction("nan").has_value());
}

}  // namespace
}  // namespace orderflow::payment_gateway
