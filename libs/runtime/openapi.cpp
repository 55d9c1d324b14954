#include "libs/runtime/openapi.hpp"

#include <boost/json/parse.hpp>
#include <stdexcept>

#include "openapi_common.hpp"

namespace orderflow::runtime {
namespace {

namespace json = boost::json;

json::object parse_object(std::string_view text, const char* what) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) throw std::invalid_argument(std::string(what) + " OpenAPI document is not a JSON object");
  return std::move(v.as_object());
}

// Adds the members of `from` that `into` lacks.
void add_missing(json::object& into, const json::object& from) {
  for (const auto& [key, value] : from) {
    if (!into.contains(key)) into[key] = value;
  }
}

json::object& object_member(json::object& o, std::string_view key) {
  auto& v = o[key];
  if (!v.is_object()) v = json::object();
  return v.as_object();
}

}  // namespace

std::string_view common_openapi() { return kOpenApiCommon; }

json::object merge_openapi(std::string_view common, std::string_view service) {
  const auto base = parse_object(common, "the common");
  auto doc = parse_object(service, "the service's");
  if (const auto* paths = base.if_contains("paths"); paths && paths->is_object()) {
    add_missing(object_member(doc, "paths"), paths->as_object());
  }
  if (const auto* components = base.if_contains("components"); components && components->is_object()) {
    auto& into = object_member(doc, "components");
    for (const auto& [section, entries] : components->as_object()) {
      if (entries.is_object()) add_missing(object_member(into, section), entries.as_object());
    }
  }
  return doc;
}

}  // namespace orderflow::runtime
