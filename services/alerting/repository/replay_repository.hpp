#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "libs/storage/database.hpp"
#include "services/alerting/domain/dlq_ops.hpp"

namespace orderflow::alerting::repository {

// The replay audit: `dlq_replays` (one row per replay call, dry runs included) and
// `dlq_replayed` (which DLQ records a real replay published). Thread-safe: every call
// takes the database lock.
class ReplayRepository final {
 public:
  explicit ReplayRepository(storage::Database& db);  // applies migrations

  // The records of `topic` that some earlier replay published.
  std::set<domain::Position> replayed(const std::string& topic);
  // Stores the call and, unless it was a dry run, marks `audit.offsets` as replayed, in one
  // transaction. Returns the audit with its id.
  domain::ReplayAudit record(domain::ReplayAudit audit);
  // Newest first; optionally one topic's.
  std::vector<domain::ReplayAudit> list(const std::optional<std::string>& topic, int limit);

 private:
  storage::Database& db_;
};

}  // namespace orderflow::alerting::repository
