#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "libs/http/types.hpp"
#include "services/payment_gateway/domain/charge.hpp"
#include "services/payment_gateway/domain/faults.hpp"
#include "services/payment_gateway/repository/charge_ledger.hpp"

// JSON in and out of the gateway's endpoints. The wire shapes are Stripe-like: a charge
// object, {"error":{"type","code","message",...}} for card and API errors, and lists as
// {"object":"list","data":[...]}. Request errors (4xx before processing) are RFC 9457
// problem+json, like every orderflow service, with the Stripe `error` member added so
// Stripe-minded clients find `error.type` too.
namespace orderflow::payment_gateway::codec {

// Decoding a request body: either it is not a JSON object (`malformed` says why), or it
// yields the fields, with type errors (a number where a string belongs) as violations.
struct DecodedCharge final {
  std::optional<std::string> malformed;
  ChargeFields fields;
  Violations violations;
};
DecodedCharge decode_charge(std::string_view body);

struct DecodedFaults final {
  std::optional<std::string> malformed;
  FaultPatch patch;
  Violations violations;  // wrong types and unknown members
};
DecodedFaults decode_faults(std::string_view body);

// The charge object. `ledger` adds the bookkeeping members shown by GET /v1/charges
// (idempotencyKey, attempts, failure*); the POST answer leaves them out.
boost::json::object charge_json(const ChargeRecord& charge, bool ledger);
boost::json::object attempt_json(const AttemptRecord& attempt);
// The fault configuration as JSON. Written by hand so errorRate reads 0.3 (Boost.JSON
// would print 3E-1, valid but unfriendly in a demo).
std::string faults_body(const FaultConfig& config);
http::Response faults_response(const FaultConfig& config);
// Shortest decimal form that reads back as the same double: 0.3 -> "0.3".
std::string format_fraction(double v);

// The stored final answer for a charge: 200 with the charge, or 402 card_error.
http::Response final_answer(const ChargeRecord& charge);
// 5xx {"error":{"type":"api_error","code":..,"message":..}}.
http::Response api_error(int status, std::string_view code, std::string_view message);
// 4xx problem+json with a Stripe `error` member (type/code) added.
http::Response request_problem(http::Status status, std::string_view slug, std::string_view title,
                               std::string_view detail, std::string_view stripe_type,
                               std::string_view stripe_code, const Violations& violations = {});

}  // namespace orderflow::payment_gateway::codec
