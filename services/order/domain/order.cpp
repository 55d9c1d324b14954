#include "services/order/domain/order.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>

namespace orderflow::order {
namespace {

// ISO 4217 currencies with two minor digits that the system prices in.
constexpr std::array<std::string_view, 16> kCurrencies{"AUD", "CAD", "CHF", "CZK", "DKK", "EUR",
                                                       "GBP", "HKD", "NOK", "NZD", "PLN", "SEK",
                                                       "SGD", "USD", "ZAR", "MXN"};

class Collector final {
 public:
  void add(std::string field, std::string message) { v_.push_back({std::move(field), std::move(message)}); }
  bool empty() const { return v_.empty(); }
  std::vector<Violation> take() { return std::move(v_); }

 private:
  std::vector<Violation> v_;
};

// Reads a required, bounded, non-blank string field.
std::string required_string(const boost::json::object& o, const char* name, std::size_t max, Collector& errors,
                            const std::string& path) {
  const auto* v = o.if_contains(name);
  if (!v || v->is_null()) {
    errors.add(path, "is required");
    return {};
  }
  if (!v->is_string()) {
    errors.add(path, "must be a string");
    return {};
  }
  std::string s(v->as_string());
  if (s.find_first_not_of(" \t\r\n") == std::string::npos) errors.add(path, "must not be blank");
  else if (s.size() > max) errors.add(path, "must be at most " + std::to_string(max) + " characters");
  return s;
}


// Walks every string in the request and reports the first card number found per field.
void scan_for_cards(const boost::json::value& v, const std::string& path, Collector& errors) {
  if (v.is_string()) {
    if (contains_card_number(v.as_string())) {
      errors.add(path, "looks like a card number: send a payment token (tok_...) instead");
    }
  } else if (v.is_object()) {
    for (const auto& [k, child] : v.as_object()) {
      scan_for_cards(child, path.empty() ? std::string(k) : path + "." + std::string(k), errors);
    }
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    for (std::size_t i = 0; i < a.size(); ++i) scan_for_cards(a[i], path + "[" + std::to_string(i) + "]", errors);
  } else if (v.is_int64() || v.is_uint64()) {
    auto s = v.is_int64() ? std::to_string(v.as_int64()) : std::to_string(v.as_uint64());
    if (contains_card_number(s)) errors.add(path, "looks like a card number: send a payment token (tok_...) instead");
  }
}

bool is_token_text(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

}  // namespace

bool is_supported_currency(std::string_view code) {
  return std::find(kCurrencies.begin(), kCurrencies.end(), code) != kCurrencies.end();
}

bool is_plausible_email(std::string_view s) {
  if (s.size() > 254) return false;
  auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) return false;
  auto domain = s.substr(at + 1);
  auto dot = domain.rfind('.');
  if (domain.empty() || dot == std::string_view::npos || dot == 0 || dot + 1 == domain.size()) return false;
  // Printable ASCII only: notification-service must be able to mail it (SMTP without
  // SMTPUTF8), else the order is accepted and its email ends in the DLQ.
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') return false;
  }
  return true;
}

std::variant<PlaceOrder, std::vector<Violation>> validate(const boost::json::value& body) {
  Collector errors;
  if (!body.is_object()) {
    errors.add("$", "must be a JSON object");
    return errors.take();
  }
  scan_for_cards(body, "", errors);
  if (!errors.empty()) return errors.take();  // say nothing else about a request holding card data

  const auto& o = body.as_object();
  PlaceOrder cmd;
  cmd.customer_id = required_string(o, "customerId", 64, errors, "customerId");
  cmd.customer_email = required_string(o, "customerEmail", 254, errors, "customerEmail");
  if (!cmd.customer_email.empty() && !is_plausible_email(cmd.customer_email)) {
    errors.add("customerEmail", "must be an email address");
  }
  cmd.currency = required_string(o, "currency", 3, errors, "currency");
  if (!cmd.currency.empty() && cmd.currency.size() <= 3 && !is_supported_currency(cmd.currency)) {
    errors.add("currency", "unknown or unsupported currency '" + cmd.currency + "' (ISO 4217, e.g. EUR)");
  }
  cmd.payment_token = required_string(o, "paymentToken", 64, errors, "paymentToken");
  if (!cmd.payment_token.empty() && (cmd.payment_token.rfind("tok_", 0) != 0 || !is_token_text(cmd.payment_token))) {
    // The gateway takes printable ASCII only: anything else is accepted here and refused
    // there, failing the order through the DLQ instead of answering 422 now.
    errors.add("paymentToken", "must be a payment gateway token (tok_ followed by printable ASCII, no spaces)");
  }

  const auto* items = o.if_contains("items");
  if (!items || items->is_null()) {
    errors.add("items", "is required");
  } else if (!items->is_array()) {
    errors.add("items", "must be an array");
  } else if (items->as_array().empty()) {
    errors.add("items", "must contain at least one item");
  } else if (items->as_array().size() > kMaxItems) {
    errors.add("items", "must contain at most " + std::to_string(kMaxItems) + " items");
  } else {
    bool overflow = false;
    const auto& arr = items->as_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      std::string path = "items[" + std::to_string(i) + "]";
      if (!arr[i].is_object()) {
        errors.add(path, "must be an object");
        continue;
      }
      const auto& it = arr[i].as_object();
      Item item;
      item.sku = required_string(it, "sku", 64, errors, path + ".sku");
      const auto* q = it.if_contains("quantity");
      if (!q || q->is_null()) {
        errors.add(path + ".quantity", "is required");
      } else if (!q->is_int64() && !q->is_uint64()) {
        errors.add(path + ".quantity", "must be an integer");
      } else if (q->is_uint64() || q->as_int64() <= 0) {
        errors.add(path + ".quantity", q->is_uint64() ? "must be at most " + std::to_string(kMaxQuantity) : "must be greater than 0");
      } else if (q->as_int64() > kMaxQuantity) {
        errors.add(path + ".quantity", "must be at most " + std::to_string(kMaxQuantity));
      } else {
        item.quantity = q->as_int64();
      }
      const auto* p = it.if_contains("unitPrice");
      if (!p || p->is_null()) {
        errors.add(path + ".unitPrice", "is required");
      } else if (!p->is_string()) {
        errors.add(path + ".unitPrice", "must be a decimal string such as \"12.50\" (never a JSON number)");
      } else if (auto m = Money::parse(p->as_string()); !m) {
        errors.add(path + ".unitPrice", "must be a non-negative decimal with at most 2 fraction digits");
      } else if (m->minor() == 0) {
        errors.add(path + ".unitPrice", "must be greater than 0");
      } else {
        item.unit_price = *m;
      }
      if (item.quantity > 0 && item.unit_price.minor() > 0 && !overflow) {
        auto line = item.unit_price.times(item.quantity);
        auto total = line ? cmd.total.plus(*line) : std::nullopt;
        if (!total) {
          overflow = true;
          errors.add("items", "order total exceeds the maximum amount " + Money::from_minor(Money::kMaxMinor).str());
        } else {
          cmd.total = *total;
        }
      }
      cmd.items.push_back(std::move(item));
    }
  }
  if (!errors.empty()) return errors.take();
  return cmd;
}

std::string_view to_string(Status s) {
  switch (s) {
    case Status::kPending: return "PENDING";
    case Status::kConfirmed: return "CONFIRMED";
    case Status::kFailed: return "FAILED";
  }
  return "PENDING";
}

std::optional<Status> parse_status(std::string_view s) {
  if (s == "PENDING") return Status::kPending;
  if (s == "CONFIRMED") return Status::kConfirmed;
  if (s == "FAILED") return Status::kFailed;
  return std::nullopt;
}

Transition on_payment(Status current, bool payment_succeeded, std::string_view failure_reason) {
  Status target = payment_succeeded ? Status::kConfirmed : Status::kFailed;
  if (current == Status::kPending) return Transition::kApply;
  if (current == Status::kFailed && payment_succeeded && failure_reason == kRecoverableFailureReason) {
    return Transition::kRecover;
  }
  return current == target ? Transition::kIgnore : Transition::kConflict;
}

std::string body_fingerprint(std::string_view body) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace orderflow::order
