#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "libs/auth/admin_tokens.hpp"
#include "libs/http/types.hpp"

namespace orderflow::runtime {

// The gate of an operator endpoint: who is calling (the admin token's name), or the
// problem+json that refuses the call — 403 when no admin token is configured (the endpoints
// are off; `how_to_enable` says how to turn them on), 401 with a Bearer challenge without a
// bearer token or with one that matches none. Refusals are logged with the route.
std::variant<std::string, http::Response> authorize_admin(const std::vector<auth::AdminToken>& tokens,
                                                          const http::RequestContext& ctx, std::string_view route,
                                                          std::string_view how_to_enable);

}  // namespace orderflow::runtime
