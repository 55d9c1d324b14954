#include "libs/auth/jwt.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>

#include "libs/auth/crypto.hpp"

namespace orderflow::auth {
namespace {

namespace json = boost::json;

Error invalid(std::string message) { return Error{"invalid-token", std::move(message), false}; }

std::optional<json::object> decode_part(std::string_view part) {
  auto raw = crypto::base64url_decode(part);
  if (!raw) return std::nullopt;
  boost::system::error_code ec;
  auto v = json::parse(*raw, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

std::optional<std::int64_t> int_claim(const json::object& claims, std::string_view name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
  if (it->value().is_double()) return static_cast<std::int64_t>(it->value().as_double());
  return std::nullopt;
}

bool audience_matches(const json::value& aud, const std::string& want) {
  if (aud.is_string()) return aud.as_string() == want;
  if (aud.is_array()) {
    for (const auto& a : aud.as_array()) {
      if (a.is_string() && a.as_string() == want) return true;
    }
  }
  return false;
}

bool is_admin(const json::object& claims) {
  if (auto it = claims.find("roles"); it != claims.end() && it->value().is_array()) {
    for (const auto& r : it->value().as_array()) {
      if (r.is_string() && r.as_string() == "admin") return true;
    }
  }
  if (auto it = claims.find("scope"); it != claims.end() && it->value().is_string()) {
    std::string_view scope = it->value().as_string();
    for (std::size_t pos = 0; pos <= scope.size();) {
      auto end = scope.find(' ', pos);
      if (end == std::string_view::npos) end = scope.size();
      if (scope.substr(pos, end - pos) == "orderflow:admin") return true;
      pos = end + 1;
    }
  }
  return false;
}

}  // namespace

JwtVerifier::JwtVerifier(JwtConfig config) : config_(std::move(config)) {
  if (config_.hs256_secret.empty() == config_.rs256_public_key_pem.empty()) {
    throw std::invalid_argument("a JWT verifier needs exactly one of an HS256 secret and an RS256 public key");
  }
  if (!config_.hs256_secret.empty() && config_.hs256_secret.size() < 32) {
    throw std::invalid_argument("the HS256 secret must be at least 32 bytes (RFC 7518 §3.2)");
  }
  if (!config_.rs256_public_key_pem.empty() && !crypto::valid_public_key(config_.rs256_public_key_pem)) {
    throw std::invalid_argument("the RS256 public key is not a PEM public key");
  }
}

Result<Principal> JwtVerifier::verify(std::string_view token, std::int64_t now_s) const {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return invalid("not a JWS compact token");
  }
  auto header = decode_part(token.substr(0, dot1));
  auto claims = decode_part(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = crypto::base64url_decode(token.substr(dot2 + 1));
  if (!header || !claims || !signature) return invalid("the token is not base64url JSON");

  const auto* alg = header->if_contains("alg");
  const std::string_view want = config_.hs256_secret.empty() ? "RS256" : "HS256";
  if (alg == nullptr || !alg->is_string() || alg->as_string() != want) {
    return invalid("the token's algorithm is not " + std::string(want));
  }
  const auto signed_part = token.substr(0, dot2);
  const bool good = want == "HS256"
                        ? crypto::constant_time_equal(crypto::hmac_sha256(config_.hs256_secret, signed_part), *signature)
                        : crypto::rs256_verify(config_.rs256_public_key_pem, signed_part, *signature);
  if (!good) return invalid("the token's signature does not verify");

  const auto leeway = config_.leeway.count();
  auto exp = int_claim(*claims, "exp");
  if (!exp) return invalid("the token has no exp");
  if (now_s > *exp + leeway) return invalid("the token has expired");
  if (auto nbf = int_claim(*claims, "nbf"); nbf && now_s + leeway < *nbf) return invalid("the token is not valid yet");
  if (!config_.issuer.empty()) {
    const auto* iss = claims->if_contains("iss");
    if (iss == nullptr || !iss->is_string() || iss->as_string() != config_.issuer) {
      return invalid("the token's issuer is not " + config_.issuer);
    }
  }
  if (!config_.audience.empty()) {
    const auto* aud = claims->if_contains("aud");
    if (aud == nullptr || !audience_matches(*aud, config_.audience)) {
      return invalid("the token is not meant for " + config_.audience);
    }
  }
  const auto* sub = claims->if_contains("sub");
  if (sub == nullptr || !sub->is_string() || sub->as_string().empty()) return invalid("the token has no sub");

  Principal p;
  p.name = std::string(sub->as_string());
  p.admin = is_admin(*claims);
  if (!p.admin) p.customer_id = p.name;
  return p;
}

}  // namespace orderflow::auth
