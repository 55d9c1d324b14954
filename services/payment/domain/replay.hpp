#pragma once

#include <string>
#include <string_view>

#include "services/payment/domain/charge.hpp"

// DLQ replays (SPEC §5, §7): an operator re-publishes a dead-lettered OrderCreated with a
// `dlq-replayed-from` header once the cause is fixed. Pure logic.
namespace orderflow::payment {

// Whether a replayed OrderCreated for an order already decided as `status` / `reason` is
// a new attempt. Only an order that failed because the gateway could not be reached is
// tried again; a success, a decline or a rejection is final, and the replay a duplicate.
inline bool replay_is_new_attempt(std::string_view status, std::string_view reason) {
  return status == "FAILED" && reason == kGatewayUnavailableReason;
}

// Names one replayed delivery: the event's ce_id and where in the DLQ it was replayed
// from. The same DLQ record replayed twice has the same key (the second does nothing);
// the same event dead-lettered again and replayed from its new position is a new attempt.
inline std::string replay_key(std::string_view ce_id, std::string_view replayed_from) {
  return std::string(ce_id) + "|" + std::string(replayed_from);
}

}  // namespace orderflow::payment
