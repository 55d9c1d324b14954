#include "libs/events/events.hpp"

namespace orderflow::events {
namespace {

// Reads required string fields, remembering the first that is missing.
class Reader final {
 public:
  explicit Reader(const boost::json::object& o) : o_(o) {}
  std::string str(const char* name, bool required = true) {
    const auto* v = o_.if_contains(name);
    if (v && v->is_string()) return std::string(v->as_string());
    if (required && missing_.empty()) missing_ = name;
    return {};
  }
  Error error() const { return Error{"malformed-event", "field '" + missing_ + "' missing or not a string", false}; }
  bool ok() const { return missing_.empty(); }
  void fail(std::string name) {
    if (missing_.empty()) missing_ = std::move(name);
  }

 private:
  const boost::json::object& o_;
  std::string missing_;
};

}  // namespace

boost::json::object to_json(const OrderCreated& e) {
  boost::json::array items;
  for (const auto& i : e.items) items.push_back({{"sku", i.sku}, {"quantity", i.quantity}, {"unitPrice", i.unit_price}});
  return {{"orderId", e.order_id},         {"customerId", e.customer_id}, {"customerEmail", e.customer_email},
          {"currency", e.currency},        {"totalAmount", e.total_amount}, {"paymentToken", e.payment_token},
          {"createdAt", e.created_at},     {"items", std::move(items)}};
}

boost::json::object to_json(const OrderOutcome& e) {
  boost::json::object o{{"orderId", e.order_id},         {"customerId", e.customer_id},
                        {"customerEmail", e.customer_email}, {"currency", e.currency},
                        {"totalAmount", e.total_amount}, {e.confirmed ? "confirmedAt" : "failedAt", e.at}};
  if (e.confirmed) o["chargeId"] = e.charge_id;
  else o["failureReason"] = e.failure_reason;
  return o;
}

boost::json::object to_json(const PaymentResult& e) {
  boost::json::object o{{"orderId", e.order_id}, {"amount", e.amount}, {"currency", e.currency},
                        {"processedAt", e.processed_at}};
  if (e.success) o["chargeId"] = e.charge_id;
  else o["reason"] = e.reason;
  return o;
}

Result<OrderCreated> parse_order_created(const boost::json::object& o) {
  Reader r(o);
  OrderCreated e;
  e.order_id = r.str("orderId");
  e.customer_id = r.str("customerId");
  e.customer_email = r.str("customerEmail");
  e.currency = r.str("currency");
  e.total_amount = r.str("totalAmount");
  e.payment_token = r.str("paymentToken");
  e.created_at = r.str("createdAt", false);
  if (const auto* items = o.if_contains("items"); items && items->is_array()) {
    for (const auto& it : items->as_array()) {
      if (!it.is_object()) {
        r.fail("items[]");
        break;
      }
      Reader ir(it.as_object());
      OrderItem item{ir.str("sku"), 0, ir.str("unitPrice")};
      const auto* q = it.as_object().if_contains("quantity");
      if (!ir.ok() || !q || !q->is_int64()) {
        r.fail("items[].quantity");
        break;
      }
      item.quantity = q->as_int64();
      e.items.push_back(std::move(item));
    }
  }
  if (!r.ok()) return r.error();
  return e;
}

Result<OrderOutcome> parse_order_outcome(const boost::json::object& o, bool confirmed) {
  Reader r(o);
  OrderOutcome e;
  e.confirmed = confirmed;
  e.order_id = r.str("orderId");
  e.customer_id = r.str("customerId", false);
  e.customer_email = r.str("customerEmail");
  e.currency = r.str("currency", false);
  e.total_amount = r.str("totalAmount", false);
  e.at = r.str(confirmed ? "confirmedAt" : "failedAt", false);
  if (confirmed) e.charge_id = r.str("chargeId", false);
  else e.failure_reason = r.str("failureReason");
  if (!r.ok()) return r.error();
  return e;
}

Result<PaymentResult> parse_payment_result(const boost::json::object& o, bool success) {
  Reader r(o);
  PaymentResult e;
  e.success = success;
  e.order_id = r.str("orderId");
  e.amount = r.str("amount", false);
  e.currency = r.str("currency", false);
  e.processed_at = r.str("processedAt", false);
  if (success) e.charge_id = r.str("chargeId");
  else e.reason = r.str("reason");
  if (!r.ok()) return r.error();
  return e;
}

}  // namespace orderflow::events
