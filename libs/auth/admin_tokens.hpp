#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Admin tokens: the credential of operator endpoints (alerting-service's DLQ operations,
// payment-gateway's fault injection), from the `admin-token` setting.
namespace orderflow::auth {

struct AdminToken final {
  std::string name;  // recorded as "who" in the replay audit
  std::string token;
};

// Parses the `admin-token` setting: a comma-separated list of `<token>` (named "admin") or
// `<name>:<token>` entries, where a name is 1-64 of [A-Za-z0-9._@-]. An empty setting is no
// token (the endpoints are disabled). Throws ConfigError on an empty entry or token.
std::vector<AdminToken> parse_admin_tokens(std::string_view setting);

// Equality that takes the same time wherever the strings differ (it only depends on the
// length of `presented`, which the caller already knows).
bool constant_time_equals(std::string_view expected, std::string_view presented);

struct AdminCheck final {
  enum class Outcome { kAllowed, kDisabled, kMissing, kInvalid };
  Outcome outcome = Outcome::kMissing;
  std::string who;  // set when allowed
};
// Checks an `Authorization` header value ("Bearer <token>", scheme case-insensitive)
// against every configured token, without an early exit: kDisabled when none is
// configured, kMissing without a bearer credential, kInvalid when it matches none.
AdminCheck check_admin(const std::vector<AdminToken>& tokens,
                       const std::optional<std::string_view>& authorization);

}  // namespace orderflow::auth
