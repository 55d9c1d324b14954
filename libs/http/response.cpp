#include "libs/http/response.hpp"

#include <boost/json/serialize.hpp>

namespace orderflow::http {
namespace {
constexpr std::string_view kAbortConnectionHeader = "X-Orderflow-Abort-Connection";
}  // namespace

Response abort_connection() {
  Response res{Status::internal_server_error, 11};
  res.set(kAbortConnectionHeader, "1");
  return res;
}

bool is_abort_connection(const Response& res) { return res.count(kAbortConnectionHeader) != 0; }

Response json_response(Status status, const boost::json::value& body) {
  return text_response(status, "application/json", boost::json::serialize(body));
}

Response text_response(Status status, std::string_view content_type, std::string body) {
  Response res{status, 11};
  res.set(bhttp::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response problem(Status status, std::string_view type_slug, std::string_view title,
                 std::string_view detail, const std::vector<FieldError>& errors) {
  boost::json::object body;
  body["type"] = "urn:orderflow:problem:" + std::string(type_slug);
  body["title"] = title;
  body["status"] = static_cast<int>(status);
  body["detail"] = detail;
  if (!errors.empty()) {
    boost::json::array list;
    for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
    body["errors"] = std::move(list);
  }
  return text_response(status, "application/problem+json", boost::json::serialize(body));
}

}  // namespace orderflow::http
