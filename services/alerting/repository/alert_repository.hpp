#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libs/common/result.hpp"
#include "libs/storage/database.hpp"
#include "services/alerting/domain/alert.hpp"

namespace orderflow::alerting::repository {

// An alert as listed by the API: the DLQ record and the state of its group.
struct Alert final {
  std::int64_t id = 0;
  std::int64_t time_ms = 0;  // when the alert was raised
  domain::DlqEntry entry;
  domain::Group group;
};

// Tables `alerts` (one row per DLQ record, UNIQUE(topic, partition, offset)) and
// `alert_groups` (one row per (topic, reason, window)). Thread-safe: every call takes the
// database lock.
class AlertRepository final {
 public:
  explicit AlertRepository(storage::Database& db);  // applies migrations

  struct Admitted final {
    bool inserted = false;  // false: this DLQ record was seen before; nothing was counted
    std::int64_t alert_id = 0;
    domain::Group group;
  };
  // In one transaction: unless the record is known, stores its alert and counts it in its
  // group (domain::admit decides whether that is a new window).
  Admitted admit(const domain::DlqEntry& entry, std::int64_t now_ms,
                 std::chrono::milliseconds window);

  void mark_email(std::int64_t group_id, bool sent, std::int64_t at_ms);
  void mark_webhook(std::int64_t group_id, std::string_view result, std::int64_t at_ms);

  // Newest first; optionally one order's.
  std::vector<Alert> list(const std::optional<std::string>& order_id, int limit);
  Status ping();

 private:
  std::optional<domain::Group> group_by_id(std::int64_t id);
  std::optional<domain::Group> latest_group(const std::string& topic, const std::string& reason);

  storage::Database& db_;
};

}  // namespace orderflow::alerting::repository
