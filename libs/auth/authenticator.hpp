#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libs/auth/jwt.hpp"
#include "libs/auth/principal.hpp"
#include "libs/common/result.hpp"
#include "libs/common/settings.hpp"

namespace orderflow::auth {

// An API key as stored: never the key itself, only its SHA-256 (keys are long random
// strings, so a fast hash is enough; a leaked configuration does not leak the keys).
struct ApiKey final {
  std::string name;
  std::string sha256_hex;
  Principal principal;
};

// Parses "<name>:<role>:<sha256-hex>" entries separated by commas or newlines ('#' starts a
// comment), where role is "admin" or "customer=<customerId>". Throws ConfigError.
std::vector<ApiKey> parse_api_keys(std::string_view text);

struct AuthConfig final {
  bool required = true;  // false: demo mode, every caller is an admin called "anonymous"
  std::vector<ApiKey> api_keys;
  std::optional<JwtConfig> jwt;

  // Settings: --auth-mode required|none (required), --api-keys, --api-keys-file,
  // --jwt-hs256-secret, --jwt-rs256-public-key-file, --jwt-issuer, --jwt-audience,
  // --jwt-leeway-s (30). Required with neither API keys nor JWT is a ConfigError: a service
  // that would refuse everyone is a mistake, not a secure default.
  static AuthConfig from(const Settings& settings);
};

// Who is calling, from the request's credentials: `Authorization: Bearer <JWT>` (three
// dot-separated parts), `Authorization: Bearer <API key>` or `X-API-Key: <API key>`.
class Authenticator final {
 public:
  explicit Authenticator(AuthConfig config);

  bool required() const { return config_.required; }
  // Error codes: "missing-credentials" (send some), "invalid-credentials" (these are wrong).
  Result<Principal> authenticate(std::string_view authorization, std::string_view api_key_header,
                                 std::int64_t now_s) const;

 private:
  AuthConfig config_;
  std::unique_ptr<JwtVerifier> jwt_;
};

}  // namespace orderflow::auth
