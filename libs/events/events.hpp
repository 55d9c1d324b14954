#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "libs/common/result.hpp"

namespace orderflow::events {

// Payloads of SPEC §4 events. Money travels as decimal strings.
struct OrderItem final {
  std::string sku;
  std::int64_t quantity = 0;
  std::string unit_price;
};

struct OrderCreated final {
  static constexpr const char* kType = "OrderCreated";
  std::string order_id, customer_id, customer_email, currency, total_amount, payment_token, created_at;
  std::vector<OrderItem> items;
};

// OrderConfirmed and OrderFailed: the final outcome of an order, with what the customer
// notification needs.
struct OrderOutcome final {
  static constexpr const char* kConfirmed = "OrderConfirmed";
  static constexpr const char* kFailed = "OrderFailed";
  std::string order_id, customer_id, customer_email, currency, total_amount, at;
  bool confirmed = false;
  std::string charge_id;       // confirmed
  std::string failure_reason;  // failed
};

struct PaymentResult final {
  static constexpr const char* kSuccess = "PaymentSuccess";
  static constexpr const char* kFailed = "PaymentFailed";
  std::string order_id, amount, currency, processed_at;
  bool success = false;
  std::string charge_id;  // success
  std::string reason;     // failed: decline code or payment-gateway-unavailable
};

boost::json::object to_json(const OrderCreated& e);
boost::json::object to_json(const OrderOutcome& e);
boost::json::object to_json(const PaymentResult& e);

// Error code "malformed-event" with the missing or mistyped field.
Result<OrderCreated> parse_order_created(const boost::json::object& o);
Result<OrderOutcome> parse_order_outcome(const boost::json::object& o, bool confirmed);
Result<PaymentResult> parse_payment_result(const boost::json::object& o, bool success);

}  // namespace orderflow::events
