#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "libs/common/card.hpp"
#include "libs/common/money.hpp"

// The order domain: validation of a placement request, the status state machine and card
// data detection. Pure logic: no Kafka, HTTP or SQL.
namespace orderflow::order {

inline constexpr std::size_t kMaxItems = 100;
inline constexpr std::int64_t kMaxQuantity = 10'000;
inline constexpr std::size_t kMaxIdempotencyKey = 255;

struct Item final {
  std::string sku;
  std::int64_t quantity = 0;
  Money unit_price;
};

// A validated request to place an order.
struct PlaceOrder final {
  std::string customer_id;
  std::string customer_email;
  std::string currency;
  std::vector<Item> items;
  std::string payment_token;
  Money total;  // computed here, never taken from the client
};

struct Violation final {
  std::string field;
  std::string message;
};

// Validates a decoded JSON body. Either the command or every violation found (all of
// them, so a client can fix its request in one go).
std::variant<PlaceOrder, std::vector<Violation>> validate(const boost::json::value& body);

bool is_supported_currency(std::string_view code);
bool is_plausible_email(std::string_view s);

// A primary account number must never be accepted, stored or logged (libs/common/card.hpp).
using orderflow::contains_card_number;

enum class Status { kPending, kConfirmed, kFailed };
std::string_view to_string(Status s);
std::optional<Status> parse_status(std::string_view s);

// The one failure that is not for ever: the gateway could not be reached within the retry
// budget. An operator may replay the payment from the DLQ once it is back (SPEC §5).
inline constexpr std::string_view kRecoverableFailureReason = "payment-gateway-unavailable";

// What a payment outcome does to an order in `current` status (with `failure_reason` when
// FAILED):
//   kApply   - move to the new status (PENDING -> CONFIRMED | FAILED)
//   kRecover - a success for an order FAILED with kRecoverableFailureReason (a DLQ replay
//              charged it after the outage): FAILED -> CONFIRMED, recorded as a recovery
//   kIgnore  - the order already has this outcome (a redelivery): nothing changes
//   kConflict- the order already has the other final outcome: nothing changes, log loudly
//              (a success for an order declined is one: a declined order never flips)
enum class Transition { kApply, kRecover, kIgnore, kConflict };
Transition on_payment(Status current, bool payment_succeeded, std::string_view failure_reason = {});

// Stable 64-bit FNV-1a hash (hex) of a request body, to tell whether a repeated
// Idempotency-Key comes with the same request.
std::string body_fingerprint(std::string_view body);

}  // namespace orderflow::order
