#include "services/payment_gateway/domain/tokens.hpp"

namespace orderflow::payment_gateway {

CardProfile profile_for(std::string_view source) {
  if (source == "tok_visa" || source == "tok_mastercard") return {CardBehaviour::kSucceed, {}, {}, {}};
  if (source == "tok_chargeDeclined") {
    return {CardBehaviour::kDecline, "card_declined", "generic_decline", "Your card was declined."};
  }
  if (source == "tok_chargeDeclinedInsufficientFunds") {
    // SPEC §6 names the code `insufficient_funds`; Stripe itself would say code card_declined
    // with decline_code insufficient_funds. We put the SPEC's value in `code` (what clients
    // map to a failure reason) and keep decline_code Stripe-like as well.
    return {CardBehaviour::kDecline, "insufficient_funds", "insufficient_funds",
            "Your card has insufficient funds."};
  }
  if (source == "tok_processingError") return {CardBehaviour::kProcessingError, {}, {}, {}};
  if (source == "tok_flaky") return {CardBehaviour::kFlaky, {}, {}, {}};
  if (source == "tok_slow") return {CardBehaviour::kSlow, {}, {}, {}};
  // An unknown token is a final answer, not a client bug worth retrying: a 402 card_error
  // lets every client treat it like a decline (see README, "Unknown tokens").
  return {CardBehaviour::kUnknown, "invalid_source", "invalid_source",
          "The payment source is not a known token."};
}

}  // namespace orderflow::payment_gateway
