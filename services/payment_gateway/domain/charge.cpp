#include "services/payment_gateway/domain/charge.hpp"

#include <cctype>

#include "services/payment_gateway/domain/tokens.hpp"

namespace orderflow::payment_gateway {
namespace {

bool printable_ascii(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) return false;
  }
  return true;
}

void check_text(const std::optional<std::string>& value, const char* field, Violations& out) {
  if (!value) {
    out.push_back({field, "is required"});
  } else if (value->empty()) {
    out.push_back({field, "must not be empty"});
  } else if (value->size() > kMaxFieldLength) {
    out.push_back({field, "must be at most " + std::to_string(kMaxFieldLength) + " characters"});
  } else if (!printable_ascii(*value)) {
    out.push_back({field, "must be printable ASCII"});
  }
}

ChargeDecision succeed(bool delayed = false) {
  ChargeDecision d;
  d.kind = ChargeDecision::Kind::kSucceed;
  d.http_status = 200;
  d.delayed = delayed;
  return d;
}

ChargeDecision decline(const CardProfile& p) {
  ChargeDecision d;
  d.kind = ChargeDecision::Kind::kDecline;
  d.http_status = 402;
  d.code = p.code;
  d.decline_code = p.decline_code;
  d.message = p.message;
  return d;
}

ChargeDecision error(int status, std::string code, std::string message) {
  ChargeDecision d;
  d.kind = ChargeDecision::Kind::kError;
  d.http_status = status;
  d.code = std::move(code);
  d.message = std::move(message);
  return d;
}

}  // namespace

std::variant<ChargeRequest, Violations> validate_charge(const ChargeFields& fields) {
  Violations violations;
  ChargeRequest req;

  check_text(fields.order_id, "orderId", violations);
  if (fields.order_id) req.order_id = *fields.order_id;

  if (!fields.amount) {
    violations.push_back({"amount", "is required"});
  } else if (auto money = Money::parse(*fields.amount); !money) {
    violations.push_back({"amount", "must be a decimal string with at most 2 fraction digits, "
                                    "e.g. \"25.00\" (at most 100000000000.00)"});
  } else if (money->minor() <= 0) {
    violations.push_back({"amount", "must be greater than zero"});
  } else {
    req.amount = *money;
  }

  if (!fields.currency) {
    violations.push_back({"currency", "is required"});
  } else {
    const auto& c = *fields.currency;
    bool letters = c.size() == 3;
    for (char ch : c) letters = letters && std::isalpha(static_cast<unsigned char>(ch)) != 0;
    if (!letters) {
      violations.push_back({"currency", "must be a three-letter ISO 4217 code, e.g. \"EUR\""});
    } else {
      for (char ch : c) req.currency.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
    }
  }

  if (fields.source && looks_like_card_number(*fields.source)) {
    // Never echo the value back: it may be real card data.
    violations.push_back({"source", "raw card numbers are not accepted; send a gateway token (tok_...)"});
  } else {
    check_text(fields.source, "source", violations);
    if (fields.source) req.source = *fields.source;
  }

  if (!violations.empty()) return violations;
  return req;
}

std::optional<std::string> idempotency_key_problem(std::string_view key) {
  if (key.empty()) return "the Idempotency-Key header is required";
  if (key.size() > kMaxIdempotencyKeyLength) {
    return "the Idempotency-Key header must be at most " + std::to_string(kMaxIdempotencyKeyLength) +
           " characters";
  }
  if (!printable_ascii(key)) return "the Idempotency-Key header must be printable ASCII";
  return std::nullopt;
}

bool looks_like_card_number(std::string_view s) {
  std::size_t digits = 0;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      ++digits;
    } else if (c != ' ' && c != '-') {
      return false;
    }
  }
  return digits >= 12 && digits <= 19;
}

std::string fingerprint(const ChargeRequest& r) {
  // Unit separators cannot occur in validated fields (printable ASCII only), so the
  // encoding is unambiguous.
  std::string out;
  out.reserve(r.order_id.size() + r.source.size() + 32);
  out += r.order_id;
  out += '\x1f';
  out += std::to_string(r.amount.minor());
  out += '\x1f';
  out += r.currency;
  out += '\x1f';
  out += r.source;
  return out;
}

KeyUse classify_key(const std::optional<StoredKey>& stored, std::string_view request_fingerprint) {
  if (!stored) return KeyUse::kFirst;
  if (stored->fingerprint != request_fingerprint) return KeyUse::kMismatch;
  return stored->final ? KeyUse::kReplay : KeyUse::kRetry;
}

ChargeDecision decide_charge(std::string_view source, int attempt) {
  auto profile = profile_for(source);
  switch (profile.behaviour) {
    case CardBehaviour::kSucceed:
      return succeed();
    case CardBehaviour::kSlow:
      return succeed(/*delayed=*/true);
    case CardBehaviour::kDecline:
    case CardBehaviour::kUnknown:
      return decline(profile);
    case CardBehaviour::kProcessingError:
      return error(500, "processing_error",
                   "An error occurred while processing the card. Try again in a little bit.");
    case CardBehaviour::kFlaky:
      if (attempt <= kFlakyFailures) {
        return error(503, "service_unavailable",
                     "The card network is temporarily unavailable (attempt " + std::to_string(attempt) +
                         "). Retry with the same Idempotency-Key.");
      }
      return succeed();
  }
  return error(500, "api_error", "unexpected card behaviour");  // unreachable
}

}  // namespace orderflow::payment_gateway
