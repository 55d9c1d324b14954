#include "services/payment/domain/charge.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>

namespace orderflow::payment {
namespace {

std::string string_at(const boost::json::value& v, std::initializer_list<const char*> path) {
  const boost::json::value* cur = &v;
  for (const char* key : path) {
    if (!cur->is_object()) return {};
    cur = cur->as_object().if_contains(key);
    if (!cur) return {};
  }
  return cur->is_string() ? std::string(cur->as_string()) : std::string();
}

}  // namespace

ChargeOutcome classify_response(unsigned status, std::string_view body) {
  boost::system::error_code ec;
  auto json = boost::json::parse(body, ec);
  if (ec) json = nullptr;
  ChargeOutcome out;
  if (status == 200 || status == 201) {
    out.charge_id = string_at(json, {"id"});
    if (out.charge_id.empty() || string_at(json, {"status"}) != "succeeded") {
      out.kind = ChargeKind::kTransient;
      out.code = "gateway-bad-response";
      out.message = "gateway answered " + std::to_string(status) + " without a succeeded charge";
      return out;
    }
    out.kind = ChargeKind::kSucceeded;
    return out;
  }
  out.code = string_at(json, {"error", "code"});
  out.message = string_at(json, {"error", "message"});
  if (status == 402) {
    out.kind = ChargeKind::kDeclined;
    if (out.code.empty()) out.code = "card_declined";
  } else if (status == 429 || status >= 500) {
    out.kind = ChargeKind::kTransient;
    if (out.code.empty()) out.code = "gateway-http-" + std::to_string(status);
  } else {
    out.kind = ChargeKind::kRejected;
    if (out.code.empty()) out.code = "gateway-http-" + std::to_string(status);
  }
  if (out.message.empty()) out.message = "gateway answered HTTP " + std::to_string(status);
  return out;
}

ChargeOutcome classify_transport_error(std::string_view code, std::string_view message) {
  return ChargeOutcome{ChargeKind::kTransient, {}, "gateway-" + std::string(code), std::string(message)};
}

std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                  std::mt19937_64& rng) {
  auto hi = base.count();
  for (int i = 0; i < attempt && hi < cap.count(); ++i) hi *= 2;
  hi = std::min<std::int64_t>(hi, cap.count());
  std::uniform_int_distribution<std::int64_t> dist(std::min<std::int64_t>(base.count(), hi), hi);
  return std::chrono::milliseconds(dist(rng));
}

}  // namespace orderflow::payment
