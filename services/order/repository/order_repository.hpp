#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libs/kafka/record.hpp"
#include "libs/storage/database.hpp"
#include "libs/storage/group_commit.hpp"
#include "services/order/domain/order.hpp"

namespace orderflow::order {

struct HistoryEntry final {
  std::string status;
  std::string reason;
  std::string at;
};

struct OrderRow final {
  std::int64_t seq = 0;
  std::string order_id, customer_id, customer_email, currency, total_amount, payment_token;
  std::string status, failure_reason, correlation_id, created_at, updated_at;
  std::string items_json;
  std::string recovered_at;  // set when a DLQ replay turned FAILED (gateway unavailable) into CONFIRMED
  std::vector<HistoryEntry> history;  // filled by get() only
};

struct NewOrder final {
  std::string order_id;
  PlaceOrder command;
  std::string correlation_id;
  std::string created_at;
  std::string items_json;
  std::optional<std::string> idempotency_key;
  std::string fingerprint;
  std::string response_body;  // what the first request was answered with
  kafka::Record event;        // OrderCreated, committed to the outbox with the order
};

struct CreateOutcome final {
  enum class Kind { kCreated, kReplay, kKeyReuse } kind;
  std::string response_body;  // kReplay: the original answer
};

struct PaymentUpdate final {
  std::string event_id;  // ce_id of the payment event: applied at most once
  std::string order_id;
  bool success = false;
  std::string reason;
  std::string at;
};

struct ApplyOutcome final {
  enum class Kind { kApplied, kRecovered, kDuplicate, kAlreadyFinal, kConflict, kUnknownOrder } kind;
  std::optional<OrderRow> order;  // kApplied, kRecovered: the order after the change
};

struct OutboxEntry final {
  std::int64_t id = 0;
  kafka::Record record;
};

struct ListFilter final {
  std::optional<std::string> status;
  std::optional<std::string> customer_id;
  std::optional<std::int64_t> after;  // keyset cursor: seq of the last row of the previous page
  // created_at in [created_after, created_before), as ISO-8601 UTC with milliseconds
  // ("2026-12-07T04:00:00.000Z", the stored form, so that text order is time order).
  std::optional<std::string> created_after, created_before;
  int limit = 20;
};

// The order store: orders, status history, the transactional outbox, idempotency keys and
// the processed-event inbox, in one database (SQLite file, or the schema `order_service` of
// a PostgreSQL database that replicas share). Thread-safe (one connection, serialised).
//
// New orders are group-committed (storage::GroupCommitter): create_async() queues the order
// and a committer thread writes everything queued so far in ONE transaction (one fsync),
// each order inside its own SAVEPOINT so that one order's failure (say a constraint
// violation) rolls back and fails only that order. Every caller is answered only after the COMMIT that holds its order
// has returned, i.e. once it is on disk. One fsync per order would cap the store near the
// disk's fdatasync rate; one fsync per batch lets the rate grow with concurrency.
// Payment events are group-committed likewise (apply_payment through a
// storage::GroupCommitter: the consumer's workers share a transaction per batch, each event
// in its own savepoint). Every other write is one transaction of its own.
//
// Replicas sharing PostgreSQL: an Idempotency-Key or a payment event raced by two replicas
// is decided by the unique key (the loser runs again and replays / sees a duplicate);
// a payment event locks its order row; and only one replica relays the outbox (see
// outbox_batch), so rows are published once and in order.
class OrderRepository final {
 public:
  // Called on the committer thread, once per order: the outcome, or the error that kept
  // the order out of the database (nothing of it was stored then).
  using CreateCallback = std::function<void(std::exception_ptr, CreateOutcome)>;

  // `url`: see storage::parse_url. `schema`: PostgreSQL schema of the tables.
  // max_batch: the most orders one transaction holds. commit_linger: how long a batch of new
  // orders may wait for more while orders keep coming (storage::GroupCommitter).
  explicit OrderRepository(const std::string& url, const std::string& schema = "order_service",
                           std::size_t max_batch = 1024,
                           std::chrono::microseconds commit_linger = std::chrono::microseconds(0));

  ~OrderRepository();
  OrderRepository(const OrderRepository&) = delete;
  OrderRepository& operator=(const OrderRepository&) = delete;

  void create_async(std::shared_ptr<const NewOrder> order, CreateCallback done);
  // Blocking form of create_async(): throws what kept the order out.
  CreateOutcome create(const NewOrder& order);
  std::optional<OrderRow> get(const std::string& order_id);
  std::vector<OrderRow> list(const ListFilter& filter);

  // Applies a payment outcome and, when the order changes, commits `make_event(order)` to
  // the outbox in the same transaction; returns once that is committed. `make_event` runs
  // inside the payment committer's batch, maybe on its thread: it must not rely on the
  // caller's thread-locals (trace::current()); capture what it needs.
  template <class MakeEvent>
  ApplyOutcome apply_payment(const PaymentUpdate& update, MakeEvent&& make_event);

  // The batch form: every update in ONE transaction (each in its own savepoint), committed
  // once. Per update, in order: its outcome. `make_event(i, order)` builds update i's
  // outbox record. A update that loses a race (PostgreSQL replicas) runs again on its own;
  // any other error is thrown (the batch is retried by the caller; updates are idempotent
  // by event id).
  std::vector<ApplyOutcome> apply_payments(const std::vector<PaymentUpdate>& updates,
                                           const std::function<kafka::Record(std::size_t, const OrderRow&)>& make_event);

  // The oldest outbox rows, in commit order per order. Empty unless this replica is the
  // outbox relay's leader (storage::Database::try_lead: one replica per database).
  std::vector<OutboxEntry> outbox_batch(int limit);
  void outbox_remove(const std::vector<std::int64_t>& ids);
  std::int64_t outbox_size();
  // Group-commit transactions committed so far (each holds one or more new orders).
  std::uint64_t batches_committed() const { return creates_.batches_committed(); }
  // Likewise for payment events (apply_payment).
  std::uint64_t payment_batches_committed() const { return payments_.batches_committed(); }
  orderflow::Status ping();

 private:
  ApplyOutcome apply_payment_impl(const PaymentUpdate& update,
                                  const std::function<kafka::Record(const OrderRow&)>& make_event);
  CreateOutcome create_locked(const NewOrder& order);
  ApplyOutcome apply_payment_locked(const PaymentUpdate& update,
                                    const std::function<kafka::Record(const OrderRow&)>& make_event);
  std::optional<OrderRow> get_locked(const std::string& order_id, bool with_history, bool for_update = false);
  void insert_outbox(const kafka::Record& r);

  // One new order, inside the group commit's transaction and its savepoint.
  CreateOutcome create_in_batch(const NewOrder& order);

  storage::Database db_;
  // After db_, so they stop (answering everything queued) before it closes.
  storage::GroupCommitter payments_;  // apply_payment's batches
  storage::GroupCommitter creates_;   // new orders' batches
};

template <class MakeEvent>
ApplyOutcome OrderRepository::apply_payment(const PaymentUpdate& update, MakeEvent&& make_event) {
  return apply_payment_impl(update, std::function<kafka::Record(const OrderRow&)>(std::forward<MakeEvent>(make_event)));
}

}  // namespace orderflow::order
