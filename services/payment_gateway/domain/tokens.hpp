#pragma once

#include <string_view>

namespace orderflow::payment_gateway {

// What a test token does when charged (SPEC §6). Deterministic, so tests and demos can
// pick an outcome by choosing a token.
enum class CardBehaviour {
  kSucceed,          // tok_visa, tok_mastercard
  kDecline,          // tok_chargeDeclined, tok_chargeDeclinedInsufficientFunds
  kProcessingError,  // tok_processingError: 500 on every attempt
  kFlaky,            // tok_flaky: 503 on the first attempts per idempotency key, then success
  kSlow,             // tok_slow: succeeds, but the answer comes after the slow delay
  kUnknown,          // anything else: declined as invalid_source
};

struct CardProfile final {
  CardBehaviour behaviour = CardBehaviour::kUnknown;
  // For declines: Stripe's `code` and `decline_code`, and the customer-facing message.
  std::string_view code;
  std::string_view decline_code;
  std::string_view message;
};

CardProfile profile_for(std::string_view source);

}  // namespace orderflow::payment_gateway
