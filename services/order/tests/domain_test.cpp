#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "services/order/domain/order.hpp"

namespace orderflow::order {
namespace {

boost::json::value valid_body() {
  return boost::json::parse(R"({"customerId":"c-42","customerEmail":"ann@example.com","currency":"EUR",
    "items":[{"sku":"BOOK-1","quantity":2,"unitPrice":"12.50"},{"sku":"PEN","quantity":3,"unitPrice":"0.99"}],
    "paymentToken":"tok_visa"})");
}

std::vector<Violation> violations_of(const boost::json::value& body) {
  auto r = validate(body);
  if (std::holds_alternative<PlaceOrder>(r)) return {};
  return std::get<std::vector<Violation>>(r);
}

bool has_field(const std::vector<Violation>& v, const std::string& field) {
  for (const auto& x : v) {
    if (x.field == field) return true;
  }
  return false;
}

TEST(Validate, AcceptsValidOrderAndComputesExactTotal) {
  auto r = validate(valid_body());
  ASSERT_TRUE(std::holds_alternative<PlaceOrder>(r));
  const auto& cmd = std::get<PlaceOrder>(r);
  EXPECT_EQ(cmd.total.str(), "27.97");  // 2 x 12.50 + 3 x 0.99
  EXPECT_EQ(cmd.items.size(), 2u);
  EXPECT_EQ(cmd.currency, "EUR");
}

TEST(Validate, NegativeAndZeroQuantityNameTheField) {
  auto body = valid_body();
  body.at("items").as_array()[0].as_object()["quantity"] = -1;
  body.at("items").as_array()[1].as_object()["quantity"] = 0;
  auto v = violations_of(body);
  EXPECT_TRUE(has_field(v, "items[0].quantity"));
  EXPECT_TRUE(has_field(v, "items[1].quantity"));
}

TEST(Validate, RejectsFloatPricesAndTooManyFractionDigits) {
  auto body = valid_body();
  body.at("items").as_array()[0].as_object()["unitPrice"] = 12.5;
  body.at("items").as_array()[1].as_object()["unitPrice"] = "0.999";
  auto v = violations_of(body);
  EXPECT_TRUE(has_field(v, "items[0].unitPrice"));
  EXPECT_TRUE(has_field(v, "items[1].unitPrice"));
}

TEST(Validate, UnknownCurrencyBadEmailMissingItems) {
  auto body = valid_body();
  body.as_object()["currency"] = "XYZ";
  body.as_object()["customerEmail"] = "not-an-email";
  body.as_object()["items"] = boost::json::array{};
  auto v = violations_of(body);
  EXPECT_TRUE(has_field(v, "currency"));
  EXPECT_TRUE(has_field(v, "customerEmail"));
  EXPECT_TRUE(has_field(v, "items"));
  EXPECT_EQ(v.size(), 3u);
}

TEST(Validate, TooManyItemsAndOverflow) {
  auto body = valid_body();
  boost::json::array many;
  for (int i = 0; i < 101; ++i) many.push_back({{"sku", "S"}, {"quantity", 1}, {"unitPrice", "1.00"}});
  body.as_object()["items"] = many;
  EXPECT_TRUE(has_field(violations_of(body), "items"));

  auto big = valid_body();
  big.as_object()["items"] = boost::json::array{
      {{"sku", "GOLD"}, {"quantity", 10000}, {"unitPrice", "99999999999.99"}}};
  auto v = violations_of(big);
  ASSERT_TRUE(has_field(v, "items"));
}

TEST(Validate, RawCardNumberAnywhereIsRejected) {
  auto body = valid_body();
  body.as_object()["paymentToken"] = "4242424242424242";
  auto v = violations_of(body);
  ASSERT_TRUE(has_field(v, "paymentToken"));
  EXPECT_EQ(v.size(), 1u) << "a request with card data gets only the card finding";

  auto in_id = valid_body();
  in_id.as_object()["customerId"] = "c 4111 1111 1111 1111";
  EXPECT_TRUE(has_field(violations_of(in_id), "customerId"));

  auto in_sku = valid_body();
  in_sku.at("items").as_array()[0].as_object()["sku"] = "5555-5555-5555-4444";
  EXPECT_TRUE(has_field(violations_of(in_sku), "items[0].sku"));
}

TEST(Validate, NonTokenPaymentSourceIsRejected) {
  auto body = valid_body();
  body.as_object()["paymentToken"] = "visa";
  EXPECT_TRUE(has_field(violations_of(body), "paymentToken"));
}

// Found by schemathesis: both were accepted here (202) and failed later — the gateway
// refused the token (gateway-rejected in payment-service.dlq), notification-service the
// address (invalid-message in notification-service.dlq).
TEST(Validate, TokenWithSpacesOrNonAsciiIsRejected) {
  for (const char* token : {"tok_ visa", "tok_vis\xc3\xa9", "tok_\t"}) {
    auto body = valid_body();
    body.as_object()["paymentToken"] = token;
    EXPECT_TRUE(has_field(violations_of(body), "paymentToken")) << token;
  }
  auto ok = valid_body();
  ok.as_object()["paymentToken"] = "tok_chargeDeclined!~";
  EXPECT_TRUE(std::holds_alternative<PlaceOrder>(validate(ok)));
}

TEST(Validate, NonAsciiEmailIsRejected) {
  EXPECT_FALSE(is_plausible_email("\xc3\xa5@example.com"));
  EXPECT_FALSE(is_plausible_email("ann@exampl\x7f.com"));
  EXPECT_TRUE(is_plausible_email("ann+tag@example.co.uk"));
}

TEST(Validate, NonObjectBody) {
  EXPECT_TRUE(has_field(violations_of(boost::json::parse("[1,2]")), "$"));
}

TEST(CardNumber, LuhnAndLength) {
  EXPECT_TRUE(contains_card_number("4242424242424242"));
  EXPECT_TRUE(contains_card_number("card: 4000-0566-5566-5556 exp"));
  EXPECT_FALSE(contains_card_number("4242424242424241"));     // Luhn fails
  EXPECT_FALSE(contains_card_number("424242424242"));         // 12 digits
  EXPECT_FALSE(contains_card_number("42424242424242424242424"));  // longer than any PAN
  EXPECT_FALSE(contains_card_number("order 12345 on 2026-01-01"));
}

TEST(StateMachine, PendingMovesOnceAndFinalStatesStay) {
  EXPECT_EQ(on_payment(Status::kPending, true), Transition::kApply);
  EXPECT_EQ(on_payment(Status::kPending, false), Transition::kApply);
  EXPECT_EQ(on_payment(Status::kConfirmed, true), Transition::kIgnore);
  EXPECT_EQ(on_payment(Status::kFailed, false), Transition::kIgnore);
  EXPECT_EQ(on_payment(Status::kConfirmed, false), Transition::kConflict);
  EXPECT_EQ(on_payment(Status::kFailed, true), Transition::kConflict);
  // After a DLQ replay: only a gateway-unavailable failure turns into a confirmation.
  EXPECT_EQ(on_payment(Status::kFailed, true, "payment-gateway-unavailable"), Transition::kRecover);
  EXPECT_EQ(on_payment(Status::kFailed, true, "card_declined"), Transition::kConflict);
  EXPECT_EQ(on_payment(Status::kFailed, false, "payment-gateway-unavailable"), Transition::kIgnore);
  EXPECT_EQ(on_payment(Status::kConfirmed, true, "payment-gateway-unavailable"), Transition::kIgnore);
}

TEST(StateMachine, StatusNamesRoundTrip) {
  for (auto s : {Status::kPending, Status::kConfirmed, Status::kFailed}) EXPECT_EQ(parse_status(to_string(s)), s);
  EXPECT_FALSE(parse_status("SHIPPED"));
}

TEST(Fingerprint, StableAndSensitive) {
  EXPECT_EQ(body_fingerprint("{\"a\":1}"), body_fingerprint("{\"a\":1}"));
  EXPECT_NE(body_fingerprint("{\"a\":1}"), body_fingerprint("{\"a\":2}"));
  EXPECT_EQ(body_fingerprint(""), "cbf29ce484222325");  // FNV-1a offset basis
}

}  // namespace
}  // namespace orderflow::order
