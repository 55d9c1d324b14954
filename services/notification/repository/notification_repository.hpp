#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libs/common/result.hpp"
#include "libs/storage/database.hpp"
#include "libs/storage/group_commit.hpp"
#include "services/notification/domain/notification.hpp"

namespace orderflow::notification::repository {

// One email sent to a customer.
struct Notification final {
  std::string order_id;
  domain::Outcome outcome = domain::Outcome::kConfirmed;
  std::string recipient;
  std::string subject;
  std::string channel;   // "smtp" | "file"
  std::string event_id;  // ce_id of the event that caused it
  std::string correlation_id;
  std::int64_t sent_at_ms = 0;
};

// The notifications table: UNIQUE(order_id, outcome) and UNIQUE(event_id) make "one email
// per order outcome" a database fact. Thread-safe: every call takes the database lock.
// record() is group-committed (storage::GroupCommitter): the consumer's workers share one
// transaction and one fsync per batch.
class NotificationRepository final {
 public:
  explicit NotificationRepository(storage::Database& db);  // applies migrations; `db` outlives it

  // Whether this event, or any event for this order's outcome, is already recorded.
  domain::Known lookup(const std::string& event_id, const std::string& order_id,
                       domain::Outcome outcome);
  // Records a sent notification. False when it was already recorded (same event or same
  // order outcome): the caller has nothing more to do. Returns once it is committed.
  bool record(const Notification& n);
  // Records many in ONE transaction (each already recorded is left as it is). Returns once
  // committed; throws the first error.
  void record_all(const std::vector<Notification>& ns);
  // Newest first; all of one order's, or the latest `limit` overall.
  std::vector<Notification> list(const std::optional<std::string>& order_id, int limit);
  Status ping();

 private:
  storage::Database& db_;
  storage::GroupCommitter committer_{db_};
};

}  // namespace orderflow::notification::repository
