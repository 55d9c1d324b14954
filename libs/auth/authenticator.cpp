#include "libs/auth/authenticator.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "libs/auth/crypto.hpp"

namespace orderflow::auth {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw ConfigError(std::string("cannot read the ") + what + " file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Error missing() { return Error{"missing-credentials", "send 'Authorization: Bearer <token or API key>'", false}; }
Error wrong(std::string message) { return Error{"invalid-credentials", std::move(message), false}; }

}  // namespace

std::vector<ApiKey> parse_api_keys(std::string_view text) {
  std::vector<ApiKey> keys;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find_first_of(",\n", pos);
    if (end == std::string_view::npos) end = text.size();
    auto entry = text.substr(pos, end - pos);
    pos = end + 1;
    if (auto hash = entry.find('#'); hash != std::string_view::npos) entry = entry.substr(0, hash);
    entry = trim(entry);
    if (entry.empty()) continue;
    const auto c1 = entry.find(':');
    const auto c2 = c1 == std::string_view::npos ? c1 : entry.find(':', c1 + 1);
    if (c2 == std::string_view::npos) {
      throw ConfigError("API key entry '" + std::string(entry) + "' is not <name>:<role>:<sha256-hex>");
    }
    ApiKey key;
    key.name = std::string(entry.substr(0, c1));
    auto role = entry.substr(c1 + 1, c2 - c1 - 1);
    key.sha256_hex = std::string(entry.substr(c2 + 1));
    if (key.name.empty() || !is_sha256_hex(key.sha256_hex)) {
      throw ConfigError("API key '" + key.name + "': needs a name and the key's SHA-256 as 64 lower-case hex digits");
    }
    key.principal.name = key.name;
    if (role == "admin") {
      key.principal.admin = true;
    } else if (role.starts_with("customer=") && role.size() > 9) {
      key.principal.customer_id = std::string(role.substr(9));
    } else {
      throw ConfigError("API key '" + key.name + "': role must be 'admin' or 'customer=<customerId>'");
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

AuthConfig AuthConfig::from(const Settings& settings) {
  AuthConfig c;
  const auto mode = settings.str("auth-mode", "required");
  if (mode != "required" && mode != "none") throw ConfigError("--auth-mode must be 'required' or 'none'");
  c.required = mode == "required";
  c.api_keys = parse_api_keys(settings.str("api-keys", ""));
  if (auto file = settings.str("api-keys-file", ""); !file.empty()) {
    auto more = parse_api_keys(read_file(file, "API keys"));
    c.api_keys.insert(c.api_keys.end(), more.begin(), more.end());
  }
  JwtConfig jwt;
  jwt.hs256_secret = settings.str("jwt-hs256-secret", "");
  if (auto file = settings.str("jwt-rs256-public-key-file", ""); !file.empty()) {
    jwt.rs256_public_key_pem = read_file(file, "JWT public key");
  }
  jwt.issuer = settings.str("jwt-issuer", "");
  jwt.audience = settings.str("jwt-audience", "");
  jwt.leeway = std::chrono::seconds(settings.integer("jwt-leeway-s", 30, 0, 3600));
  if (!jwt.hs256_secret.empty() || !jwt.rs256_public_key_pem.empty()) {
    if (jwt.issuer.empty() || jwt.audience.empty()) {
      throw ConfigError("JWT authentication needs --jwt-issuer and --jwt-audience (tokens are checked against them)");
    }
    c.jwt = std::move(jwt);
  }
  if (c.required && c.api_keys.empty() && !c.jwt) {
    throw ConfigError(
        "authentication is required but no credentials are configured: set ORDERFLOW_API_KEYS "
        "(<name>:<admin|customer=<id>>:<sha256 of the key>) or ORDERFLOW_JWT_HS256_SECRET / "
        "ORDERFLOW_JWT_RS256_PUBLIC_KEY_FILE with ORDERFLOW_JWT_ISSUER and ORDERFLOW_JWT_AUDIENCE; "
        "or ORDERFLOW_AUTH_MODE=none for a local demo");
  }
  return c;
}

Authenticator::Authenticator(AuthConfig config) : config_(std::move(config)) {
  if (config_.jwt) {
    try {
      jwt_ = std::make_unique<JwtVerifier>(*config_.jwt);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(e.what());
    }
  }
}

Result<Principal> Authenticator::authenticate(std::string_view authorization, std::string_view api_key_header,
                                              std::int64_t now_s) const {
  if (!config_.required) return Principal{"anonymous", "", true};
  std::string_view credential = trim(api_key_header);
  authorization = trim(authorization);
  if (credential.empty() && !authorization.empty()) {
    if (authorization.size() < 7 || !std::equal(authorization.begin(), authorization.begin() + 7, "bearer ",
                                                [](char a, char b) { return std::tolower(a) == b; })) {
      return wrong("only the Bearer scheme is accepted");
    }
    credential = trim(authorization.substr(7));
  }
  if (credential.empty()) return missing();
  if (std::count(credential.begin(), credential.end(), '.') == 2) {
    if (!jwt_) return wrong("this service does not accept JSON Web Tokens");
    auto p = jwt_->verify(credential, now_s);
    if (!p) return wrong(p.error().message);
    return p;
  }
  const auto digest = crypto::sha256_hex(credential);
  for (const auto& key : config_.api_keys) {
    if (crypto::constant_time_equal(digest, key.sha256_hex)) return key.principal;
  }
  return wrong("unknown API key");
}

}  // namespace orderflow::auth
