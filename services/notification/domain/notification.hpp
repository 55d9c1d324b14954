#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "libs/events/events.hpp"

// What a customer is told about the final outcome of an order, and when. Pure logic: no
// Kafka, HTTP or SQL here.
namespace orderflow::notification::domain {

enum class Outcome { kConfirmed, kFailed };

// "CONFIRMED" / "FAILED": the outcome as stored and served by the API.
std::string_view outcome_name(Outcome outcome);
std::optional<Outcome> parse_outcome_name(std::string_view name);

// The outcome an event type (ce_type) announces: OrderConfirmed, OrderFailed. Anything else
// (OrderCreated, a type added later) is not for this service: nullopt.
std::optional<Outcome> outcome_of_event_type(std::string_view ce_type);

struct Email final {
  std::string to;
  std::string subject;
  std::string body;
  std::string
      message_id;  // stable per order and outcome: a resent copy is recognisably the same mail
};

// The customer email for an outcome. `sender_domain` is the domain of the From address.
Email compose(const events::OrderOutcome& outcome, std::string_view sender_domain);

// A failure code (decline code, payment-gateway-unavailable) in words a customer reads.
std::string describe_failure(std::string_view reason);

// What is already known about an outcome event.
struct Known final {
  bool event_recorded = false;     // this ce_id already led to a recorded notification
  bool outcome_recorded = false;   // this order's outcome was already notified (any event id)
  bool sent_not_recorded = false;  // sent by this process, but recording it failed (retrying)
};

enum class Action {
  kSend,             // send the email, then record it
  kRecordOnly,       // the email went out; only the record is missing
  kSkipRedelivered,  // same event seen again (redelivery, restart): nothing to do
  kSkipDuplicate,    // another event for an outcome already notified: nothing to do
};

// Check before sending, record after sending: one email per order outcome.
Action decide(const Known& known);
std::string_view action_name(Action action);

}  // namespace orderflow::notification::domain
