#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "libs/common/money.hpp"
#include "services/payment_gateway/domain/violation.hpp"

namespace orderflow::payment_gateway {

inline constexpr std::size_t kMaxIdempotencyKeyLength = 255;
inline constexpr std::size_t kMaxFieldLength = 255;
// tok_flaky answers 503 this many times per idempotency key before it succeeds.
inline constexpr int kFlakyFailures = 2;

// A validated charge request.
struct ChargeRequest final {
  std::string order_id;
  Money amount;
  std::string currency;  // ISO 4217 letters, upper case
  std::string source;    // a gateway token, never a raw card number
};

// The body fields as decoded from JSON: nullopt when absent. Type errors (a number where a
// string belongs) are reported by the decoder, which then leaves the field out.
struct ChargeFields final {
  std::optional<std::string> order_id;
  std::optional<std::string> amount;
  std::optional<std::string> currency;
  std::optional<std::string> source;
};

// Validates the field values. Violations name the JSON fields (orderId, amount, ...).
std::variant<ChargeRequest, Violations> validate_charge(const ChargeFields& fields);

// Nullopt when `key` is a usable Idempotency-Key; else what is wrong with it.
std::optional<std::string> idempotency_key_problem(std::string_view key);

// True for something that looks like a primary account number (12-19 digits, optionally
// grouped by spaces or dashes). Such a value is rejected and never stored or logged.
bool looks_like_card_number(std::string_view s);

// The parameters an idempotency key is bound to, in a canonical form: two requests are
// "the same" when their fingerprints are equal ("25.0" and "25.00" are the same amount).
std::string fingerprint(const ChargeRequest& request);

// What a request with an Idempotency-Key means, given what is stored under that key.
enum class KeyUse {
  kFirst,     // key never seen: a new attempt
  kRetry,     // key seen, same parameters, no final answer yet (earlier 5xx): a new attempt
  kReplay,    // key seen, same parameters, final answer stored: answer it again
  kMismatch,  // key seen with different parameters: 422 idempotency_error
};

struct StoredKey final {
  std::string fingerprint;
  bool final = false;  // a success or a decline is stored for the key
};

KeyUse classify_key(const std::optional<StoredKey>& stored, std::string_view request_fingerprint);

// The gateway's answer to one processing attempt.
struct ChargeDecision final {
  enum class Kind { kSucceed, kDecline, kError };
  Kind kind = Kind::kError;
  int http_status = 500;     // 200, 402, 500 or 503
  std::string code;          // decline or error code (Stripe's error.code)
  std::string decline_code;  // declines only
  std::string message;       // human-readable, safe to show to a customer
  bool delayed = false;      // tok_slow: the answer is held back by the slow delay

  // Successes and declines are final: stored under the idempotency key and replayed.
  // Errors are not: the next attempt with the key is processed again.
  bool final() const { return kind != Kind::kError; }
};

// Pure: the outcome of charging `source` on the `attempt`-th (1-based) processing attempt
// under one idempotency key.
ChargeDecision decide_charge(std::string_view source, int attempt);

}  // namespace orderflow::payment_gateway
