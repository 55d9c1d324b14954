#include "services/payment_gateway/handlers/codec.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <array>
#include <charconv>
#include <limits>

#include "libs/common/time.hpp"
#include "libs/http/response.hpp"

namespace orderflow::payment_gateway::codec {
namespace json = boost::json;
namespace {

std::optional<json::object> parse_object(std::string_view body, std::optional<std::string>& malformed) {
  boost::system::error_code ec;
  auto value = json::parse(body, ec);
  if (ec) {
    malformed = "the body is not valid JSON: " + ec.message();
    return std::nullopt;
  }
  if (!value.is_object()) {
    malformed = "the body must be a JSON object";
    return std::nullopt;
  }
  return std::move(value.as_object());
}

void string_field(const json::object& o, std::string_view name, std::optional<std::string>& out,
                  Violations& violations, std::string_view hint = "must be a string") {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return;  // absent: validation says "is required"
  if (!it->value().is_string()) {
    violations.push_back({std::string(name), std::string(hint)});
    return;
  }
  out = std::string(it->value().as_string());
}

std::optional<std::int64_t> as_int64(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) {
    auto u = v.as_uint64();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return static_cast<std::int64_t>(u);
    return std::numeric_limits<std::int64_t>::max();  // out of range: validation rejects it
  }
  return std::nullopt;
}

}  // namespace

DecodedCharge decode_charge(std::string_view body) {
  DecodedCharge out;
  auto o = parse_object(body, out.malformed);
  if (!o) return out;
  string_field(*o, "orderId", out.fields.order_id, out.violations);
  string_field(*o, "amount", out.fields.amount, out.violations,
               "must be a decimal string such as \"25.00\", not a JSON number");
  string_field(*o, "currency", out.fields.currency, out.violations);
  string_field(*o, "source", out.fields.source, out.violations);
  return out;
}

DecodedFaults decode_faults(std::string_view body) {
  DecodedFaults out;
  auto o = parse_object(body, out.malformed);
  if (!o) return out;
  for (const auto& [key, value] : *o) {
    if (key == "errorRate" || key == "resetAfterCommitRate") {
      if (!value.is_number()) {
        out.violations.push_back({std::string(key), "must be a number between 0 and 1"});
      } else if (key == "errorRate") {
        out.patch.error_rate = value.to_number<double>();
      } else {
        out.patch.reset_after_commit_rate = value.to_number<double>();
      }
    } else if (key == "latencyMs" || key == "latencyJitterMs") {
      auto n = as_int64(value);
      if (!n) {
        out.violations.push_back({std::string(key), "must be an integer number of milliseconds"});
      } else if (key == "latencyMs") {
        out.patch.latency_ms = *n;
      } else {
        out.patch.latency_jitter_ms = *n;
      }
    } else if (key == "outage") {
      if (value.is_bool()) {
        out.patch.outage = value.as_bool();
      } else {
        out.violations.push_back({"outage", "must be true or false"});
      }
    } else {
      out.violations.push_back({std::string(key),
                                "unknown member (known: errorRate, latencyMs, latencyJitterMs, outage, resetAfterCommitRate)"});
    }
  }
  return out;
}

json::object charge_json(const ChargeRecord& c, bool ledger) {
  json::object o{
      {"id", c.id},
      {"object", "charge"},
      {"status", c.status},
      {"paid", c.succeeded()},
      {"amount", c.amount.str()},
      {"currency", c.currency},
      {"orderId", c.order_id},
      {"created", c.created_ms / 1000},  // Unix seconds, as Stripe
      {"createdAt", iso8601_from_ms(c.created_ms)},
  };
  if (ledger) {
    o["idempotencyKey"] = c.idempotency_key;
    o["attempts"] = c.attempts;
    if (!c.succeeded()) {
      o["failureCode"] = c.failure_code;
      o["failureMessage"] = c.failure_message;
    }
  }
  return o;
}

json::object attempt_json(const AttemptRecord& a) {
  json::object o{
      {"object", "charge_attempt"},
      {"idempotencyKey", a.idempotency_key},
      {"orderId", a.order_id},
      {"attempt", a.attempt},
      {"outcome", a.outcome},
      {"httpStatus", a.http_status},
      {"createdAt", iso8601_from_ms(a.created_ms)},
  };
  if (!a.code.empty()) o["code"] = a.code;
  if (a.charge_id) o["chargeId"] = *a.charge_id;
  return o;
}

std::string format_fraction(double v) {
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec != std::errc()) return "0";
  return std::string(buf.data(), end);
}

std::string faults_body(const FaultConfig& c) {
  return "{\"errorRate\":" + format_fraction(c.error_rate) + ",\"latencyMs\":" + std::to_string(c.latency_ms) +
         ",\"latencyJitterMs\":" + std::to_string(c.latency_jitter_ms) +
         ",\"outage\":" + (c.outage ? "true" : "false") +
         ",\"resetAfterCommitRate\":" + format_fraction(c.reset_after_commit_rate) + "}";
}

http::Response faults_response(const FaultConfig& c) {
  return http::text_response(http::Status::ok, "application/json", faults_body(c));
}

http::Response final_answer(const ChargeRecord& c) {
  if (c.succeeded()) return http::json_response(http::Status::ok, charge_json(c, false));
  json::object error{{"type", "card_error"},
                     {"code", c.failure_code},
                     {"message", c.failure_message},
                     {"charge", c.id}};
  if (!c.failure_decline_code.empty()) error["decline_code"] = c.failure_decline_code;
  return http::json_response(http::Status::payment_required, json::object{{"error", std::move(error)}});
}

http::Response api_error(int status, std::string_view code, std::string_view message) {
  return http::json_response(static_cast<http::Status>(status),
                             json::object{{"error", {{"type", "api_error"}, {"code", code}, {"message", message}}}});
}

http::Response request_problem(http::Status status, std::string_view slug, std::string_view title,
                               std::string_view detail, std::string_view stripe_type,
                               std::string_view stripe_code, const Violations& violations) {
  json::object body{{"type", "urn:orderflow:problem:" + std::string(slug)},
                    {"title", title},
                    {"status", static_cast<int>(status)},
                    {"detail", detail}};
  if (!violations.empty()) {
    json::array errors;
    for (const auto& v : violations) errors.push_back(json::object{{"field", v.field}, {"message", v.message}});
    body["errors"] = std::move(errors);
  }
  json::object stripe{{"type", stripe_type}, {"message", detail}};
  if (!stripe_code.empty()) stripe["code"] = stripe_code;
  if (violations.size() == 1) stripe["param"] = violations.front().field;
  body["error"] = std::move(stripe);
  return http::text_response(status, "application/problem+json", json::serialize(body));
}

}  // namespace orderflow::payment_gateway::codec
