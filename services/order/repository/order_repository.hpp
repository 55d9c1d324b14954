#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libs/kafka/record.hpp"
#include "libs/storage/database.hpp"
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
  int limit = 20;
};

// The order store: orders, status history, the transactional outbox, idempotency keys and
// the processed-event inbox, in one database (SQLite file, or the schema `order_service` of
// a PostgreSQL database that replicas share). Each method is one transaction.
// Thread-safe (one connection, serialised).
//
// Replicas sharing PostgreSQL: an Idempotency-Key or a payment event raced by two replicas
// is decided by the unique key (the loser runs again and replays / sees a duplicate);
// a payment event locks its order row; and only one replica relays the outbox (see
// outbox_batch), so rows are published once and in order.
class OrderRepository final {
 public:
  // `url`: see storage::parse_url. `schema`: PostgreSQL schema of the tables.
  explicit OrderRepository(const std::string& url, const std::string& schema = "order_service");

  CreateOutcome create(const NewOrder& order);
  std::optional<OrderRow> get(const std::string& order_id);
  std::vector<OrderRow> list(const ListFilter& filter);

  // Applies a payment outcome and, when the order changes, commits `make_event(order)` to
  // the outbox in the same transaction.
  template <class MakeEvent>
  ApplyOutcome apply_payment(const PaymentUpdate& update, MakeEvent&& make_event);

  // The oldest outbox rows, in commit order per order. Empty unless this replica is the
  // outbox relay's leader (storage::Database::try_lead: one replica per database).
  std::vector<OutboxEntry> outbox_batch(int limit);
  void outbox_remove(const std::vector<std::int64_t>& ids);
  std::int64_t outbox_size();
  orderflow::Status ping();

 private:
  ApplyOutcome apply_payment_impl(const PaymentUpdate& update,
                                  const std::function<kafka::Record(const OrderRow&)>& make_event);
  CreateOutcome create_locked(const NewOrder& order);
  ApplyOutcome apply_payment_locked(const PaymentUpdate& update,
                                    const std::function<kafka::Record(const OrderRow&)>& make_event);
  std::optional<OrderRow> get_locked(const std::string& order_id, bool with_history, bool for_update = false);
  void insert_outbox(const kafka::Record& r);

  storage::Database db_;
};

template <class MakeEvent>
ApplyOutcome OrderRepository::apply_payment(const PaymentUpdate& update, MakeEvent&& make_event) {
  return apply_payment_impl(update, std::function<kafka::Record(const OrderRow&)>(std::forward<MakeEvent>(make_event)));
}

}  // namespace orderflow::order
