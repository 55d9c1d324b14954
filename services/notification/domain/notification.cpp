#include "services/notification/domain/notification.hpp"

#include <cctype>

namespace orderflow::notification::domain {

std::string_view outcome_name(Outcome outcome) {
  return outcome == Outcome::kConfirmed ? "CONFIRMED" : "FAILED";
}

std::optional<Outcome> parse_outcome_name(std::string_view name) {
  if (name == "CONFIRMED") return Outcome::kConfirmed;
  if (name == "FAILED") return Outcome::kFailed;
  return std::nullopt;
}

std::optional<Outcome> outcome_of_event_type(std::string_view ce_type) {
  if (ce_type == events::OrderOutcome::kConfirmed) return Outcome::kConfirmed;
  if (ce_type == events::OrderOutcome::kFailed) return Outcome::kFailed;
  return std::nullopt;
}

std::string describe_failure(std::string_view reason) {
  struct Known {
    std::string_view code, words;
  };
  static constexpr Known kKnown[] = {
      {"card_declined", "your card was declined"},
      {"insufficient_funds", "your card has insufficient funds"},
      {"expired_card", "your card has expired"},
      {"incorrect_cvc", "the card's security code was incorrect"},
      {"processing_error", "the payment could not be processed"},
      {"payment-gateway-unavailable", "we could not reach our payment provider"},
  };
  for (const auto& k : kKnown) {
    if (k.code == reason) return std::string(k.words);
  }
  return "the payment did not go through";
}

namespace {

// Message-ID local parts allow only atext; order ids are UUIDs, but stay safe.
std::string id_part(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? "unknown" : out;
}

std::string amount_line(const events::OrderOutcome& e) {
  if (e.total_amount.empty()) return {};
  return e.total_amount + (e.currency.empty() ? "" : " " + e.currency);
}

}  // namespace

Email compose(const events::OrderOutcome& e, std::string_view sender_domain) {
  Email m;
  m.to = e.customer_email;
  const std::string amount = amount_line(e);
  std::string body = "Hello,\n\n";
  if (e.confirmed) {
    m.subject = "Your order " + e.order_id + " is confirmed";
    body += "thank you: your order " + e.order_id + " is confirmed and paid.\n\n";
    if (!amount.empty()) body += "Amount charged:    " + amount + "\n";
    if (!e.charge_id.empty()) body += "Payment reference: " + e.charge_id + "\n";
    if (!e.at.empty()) body += "Confirmed at:      " + e.at + "\n";
  } else {
    m.subject = "Your order " + e.order_id + " could not be completed";
    body += "we are sorry: your order " + e.order_id + " could not be completed because " +
            describe_failure(e.failure_reason) + ".\n\n";
    if (!amount.empty()) body += "Order amount:   " + amount + "\n";
    body += "Failure reason: " + e.failure_reason + "\n";
    if (!e.at.empty()) body += "Failed at:      " + e.at + "\n";
    body += "\nYou are welcome to place the order again, with another card if need be.\n";
  }
  body += "\nOrder id: " + e.order_id + "\n\n-- \norderflow\n";
  m.body = std::move(body);
  m.message_id =
      "<order-" + id_part(e.order_id) + "." + (e.confirmed ? "confirmed" : "failed") + "@" +
      (sender_domain.empty() ? std::string("orderflow.local") : std::string(sender_domain)) + ">";
  return m;
}

Action decide(const Known& known) {
  if (known.sent_not_recorded) return Action::kRecordOnly;
  if (known.event_recorded) return Action::kSkipRedelivered;
  if (known.outcome_recorded) return Action::kSkipDuplicate;
  return Action::kSend;
}

std::string_view action_name(Action action) {
  switch (action) {
    case Action::kSend:
      return "send";
    case Action::kRecordOnly:
      return "record-only";
    case Action::kSkipRedelivered:
      return "skip-redelivered";
    case Action::kSkipDuplicate:
      return "skip-duplicate";
  }
  return "unknown";
}

}  // namespace orderflow::notification::domain
