#pragma once

#include <boost/json/object.hpp>
#include <string_view>

namespace orderflow::runtime {

// The OpenAPI 3 document of what every service serves (actuator, metrics, /v3/api-docs)
// and the shared components (Problem, the problem responses): libs/runtime/openapi/common.json.
std::string_view common_openapi();

// A service's own document (services/<service>/openapi.json) completed with the common
// paths and components; the service's entries win where both define one. Throws
// std::invalid_argument when either text is not a JSON object.
boost::json::object merge_openapi(std::string_view common, std::string_view service);

}  // namespace orderflow::runtime
