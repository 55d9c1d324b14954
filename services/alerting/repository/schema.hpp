#pragma once

#include "libs/storage/database.hpp"

namespace orderflow::alerting::repository {

// alerting-service's tables, in one migration list for its one database: `alert_groups`
// and `alerts` (AlertRepository), `dlq_replays` and `dlq_replayed` (ReplayRepository).
// Idempotent; the caller holds the database lock.
void migrate(storage::Database& db);

}  // namespace orderflow::alerting::repository
