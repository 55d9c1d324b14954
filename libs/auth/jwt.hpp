#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "libs/auth/principal.hpp"
#include "libs/common/result.hpp"

namespace orderflow::auth {

// What a JSON Web Token must be to be accepted (RFC 7519). Exactly one of the keys is set;
// the algorithm is the key's (HS256 for a shared secret, RS256 for an RSA public key) and a
// token naming any other algorithm — "none" included — is refused. `exp` is required;
// `nbf` is honoured; `iss` and `aud` must match when configured.
struct JwtConfig final {
  std::string hs256_secret;
  std::string rs256_public_key_pem;
  std::string issuer;
  std::string audience;
  std::chrono::seconds leeway{30};
};

// A verified token's principal: `sub` is the customer; a `roles` array containing "admin"
// (or a space-separated `scope` containing "orderflow:admin") makes an admin.
class JwtVerifier final {
 public:
  explicit JwtVerifier(JwtConfig config);  // throws std::invalid_argument on a bad key
  Result<Principal> verify(std::string_view token, std::int64_t now_s) const;

 private:
  JwtConfig config_;
};

}  // namespace orderflow::auth
