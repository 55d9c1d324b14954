#pragma once

#include <optional>
#include <string>
#include <string_view>

// The few primitives authentication needs, over OpenSSL.
namespace orderflow::auth::crypto {

std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
// RSASSA-PKCS1-v1_5 with SHA-256 (JWT "RS256") against a PEM public key; false on any error.
bool rs256_verify(const std::string& public_key_pem, std::string_view data, std::string_view signature);
// Is the PEM a usable public key?
bool valid_public_key(const std::string& public_key_pem);
// Base64url without padding (RFC 7515 §2); nullopt on characters outside the alphabet.
std::optional<std::string> base64url_decode(std::string_view in);
std::string base64url_encode(std::string_view in);
// Compares in time independent of where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace orderflow::auth::crypto
