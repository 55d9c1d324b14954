#pragma once

#include <optional>
#include <string>
#include <vector>

#include "libs/kafka/record.hpp"
#include "libs/storage/database.hpp"
#include "libs/storage/group_commit.hpp"

namespace orderflow::payment {

// One row per order: the outcome decided for it and the exact records that announce it
// (PaymentSuccess/PaymentFailed, and the DLQ copy when there is one). The outcome is
// stored before it is published, so a redelivered OrderCreated re-publishes the same
// records (same ce_id) instead of charging or deciding again.
struct PaymentRow final {
  std::string order_id;
  std::string event_id;  // ce_id of the OrderCreated that caused it
  std::string status;    // SUCCEEDED | DECLINED | FAILED
  std::string charge_id;
  std::string reason;
  std::string amount, currency;
  int attempts = 0;
  std::vector<kafka::Record> records;
  bool published = false;
  std::string created_at;
};

// The payments table, in a SQLite file or the PostgreSQL schema `payment_service`. The
// order_id primary key decides between replicas: record() of a second outcome is a no-op.
// Thread-safe. The writes (record, record_replay, mark_published) are group-committed
// (storage::GroupCommitter): the consumer's many workers share one transaction and one
// fsync per batch; each still returns only once its write is committed.
class PaymentRepository final {
 public:
  // `url`: see storage::parse_url. `schema`: PostgreSQL schema of the table.
  explicit PaymentRepository(const std::string& url, const std::string& schema = "payment_service");

  std::optional<PaymentRow> find(const std::string& order_id);
  // Inserts the decided outcome; false when the order already has one (kept as it is).
  bool record(const PaymentRow& row);
  // Notes that the row's records were published (a redelivered OrderCreated then has
  // nothing to re-publish).
  void mark_published(const std::string& order_id);
  // The batch forms: every row (flag) in ONE transaction. record_all: per row, whether it
  // was inserted. Both throw the first error a row met (the other rows are committed: a
  // retry of the caller finds them decided and publishes their records).
  std::vector<bool> record_all(const std::vector<PaymentRow>& rows);
  void mark_published_all(const std::vector<std::string>& order_ids);

  // DLQ replays. `replay_key` names one replayed delivery (see replay_key() in
  // domain/replay.hpp). replay_seen: whether that delivery decided something already.
  bool replay_seen(const std::string& replay_key);
  // A replay decided a new outcome for an order whose stored outcome is `FAILED` with
  // `payment-gateway-unavailable`: in one transaction, the row takes the new outcome and
  // records (unpublished) and the replay key is remembered. False, changing nothing, when
  // the key was used before or the order is no longer in that state.
  bool record_replay(const PaymentRow& row, const std::string& replay_key);
  std::vector<PaymentRow> list(const std::optional<std::string>& order_id, int limit);
  Status ping();

 private:
  storage::Database db_;
  storage::GroupCommitter committer_{db_};  // after db_: stops (answering every caller) before db_ closes
};

}  // namespace orderflow::payment
