#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "libs/http/types.hpp"

namespace orderflow::http {

struct FieldError final {
  std::string field;    // JSON path of the offending value, e.g. "items[0].quantity"
  std::string message;  // what is wrong with it
};

Response json_response(Status status, const boost::json::value& body);

// Not an answer: the server writes nothing and resets the connection (TCP RST) instead, as
// a peer that crashed after doing the work would. For fault injection (payment-gateway).
Response abort_connection();
bool is_abort_connection(const Response& res);
Response text_response(Status status, std::string_view content_type, std::string body);

// RFC 9457 problem details (application/problem+json). `type_slug` becomes
// "urn:orderflow:problem:<slug>"; `errors` (validation failures) is added when non-empty.
Response problem(Status status, std::string_view type_slug, std::string_view title,
                 std::string_view detail, const std::vector<FieldError>& errors = {});

// Common problems.
inline Response not_found(std::string_view detail) {
  return problem(Status::not_found, "not-found", "Not Found", detail);
}
inline Response bad_request(std::string_view detail) {
  return problem(Status::bad_request, "malformed-request", "Bad Request", detail);
}

}  // namespace orderflow::http
