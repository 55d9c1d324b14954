#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

// How the payment service reads the gateway's answers and paces its retries. Pure logic.
namespace orderflow::payment {

enum class ChargeKind {
  kSucceeded,  // 200: charged
  kDeclined,   // 402: a final business outcome
  kTransient,  // timeout, connection failure, 5xx, 429: may succeed if tried again
  kRejected,   // any other 4xx: our request is wrong; retrying cannot help
};

struct ChargeOutcome final {
  ChargeKind kind = ChargeKind::kTransient;
  std::string charge_id;  // kSucceeded
  std::string code;       // decline code (kDeclined), or a short error code
  std::string message;    // for logs and DLQ headers
};

// Maps the gateway's HTTP answer (status + JSON body) to an outcome.
ChargeOutcome classify_response(unsigned status, std::string_view body);
// Maps a transport failure ("timeout", "connect-failed", "io") to an outcome.
ChargeOutcome classify_transport_error(std::string_view code, std::string_view message);

// Exponential back-off with full jitter: uniform in [base, base * 2^attempt], capped.
std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                  std::mt19937_64& rng);

// The PaymentFailed reason for a charge that could not be completed.
inline constexpr const char* kGatewayUnavailableReason = "payment-gateway-unavailable";

}  // namespace orderflow::payment
