#include "services/order/repository/order_repository.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <future>

#include "libs/observability/log.hpp"

namespace orderflow::order {
namespace {

constexpr std::array<std::string_view, 2> kMigrations{R"sql(
CREATE TABLE orders (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id       TEXT NOT NULL UNIQUE,
  customer_id    TEXT NOT NULL,
  customer_email TEXT NOT NULL,
  currency       TEXT NOT NULL,
  total_amount   TEXT NOT NULL,
  items          TEXT NOT NULL,
  payment_token  TEXT NOT NULL,
  status         TEXT NOT NULL,
  failure_reason TEXT,
  correlation_id TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE INDEX orders_customer ON orders(customer_id, seq);
CREATE INDEX orders_status ON orders(status, seq);
CREATE TABLE order_status_history (
  order_id TEXT NOT NULL REFERENCES orders(order_id),
  status   TEXT NOT NULL,
  reason   TEXT,
  at       TEXT NOT NULL
);
CREATE INDEX history_order ON order_status_history(order_id);
CREATE TABLE outbox (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  topic   TEXT NOT NULL,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  headers TEXT NOT NULL
);
CREATE TABLE idempotency_keys (
  key           TEXT PRIMARY KEY,
  fingerprint   TEXT NOT NULL,
  order_id      TEXT NOT NULL,
  response_body TEXT NOT NULL
);
CREATE TABLE processed_events (
  event_id     TEXT PRIMARY KEY,
  processed_at TEXT NOT NULL
);
)sql",
                                                      R"sql(
ALTER TABLE orders ADD COLUMN recovered_at TEXT;
)sql"};

constexpr const char* kOrderColumns =
    "seq, order_id, customer_id, customer_email, currency, total_amount, items, payment_token, status, "
    "failure_reason, correlation_id, created_at, updated_at, COALESCE(recovered_at, '')";

OrderRow read_order(const storage::Statement& s) {
  OrderRow r;
  r.seq = s.integer(0);
  r.order_id = s.text(1);
  r.customer_id = s.text(2);
  r.customer_email = s.text(3);
  r.currency = s.text(4);
  r.total_amount = s.text(5);
  r.items_json = s.text(6);
  r.payment_token = s.text(7);
  r.status = s.text(8);
  r.failure_reason = s.text(9);
  r.correlation_id = s.text(10);
  r.created_at = s.text(11);
  r.updated_at = s.text(12);
  r.recovered_at = s.text(13);
  return r;
}

std::string headers_to_json(const kafka::Headers& headers) {
  boost::json::array a;
  for (const auto& [k, v] : headers) a.push_back(boost::json::array{boost::json::string(k), boost::json::string(v)});
  return boost::json::serialize(a);
}

kafka::Headers headers_from_json(const std::string& s) {
  kafka::Headers out;
  auto parsed = boost::json::parse(s);
  for (const auto& h : parsed.as_array()) {
    const auto& pair = h.as_array();
    out.emplace_back(std::string(pair.at(0).as_string()), std::string(pair.at(1).as_string()));
  }
  return out;
}

// Runs `body` again when it lost a race on a unique key to another replica sharing a
// PostgreSQL database (SQLite serialises writers, so there it never races): the second run
// sees the winner's committed row (a replay, a duplicate).
template <class Body>
auto retry_lost_race(Body&& body) {
  try {
    return body();
  } catch (const storage::DbError& e) {
    if (!e.is_constraint()) throw;
    return body();
  }
}

}  // namespace

OrderRepository::OrderRepository(const std::string& url, const std::string& schema, std::size_t max_batch,
                                 std::chrono::microseconds commit_linger)
    : db_(url, schema), payments_(db_), creates_(db_, max_batch, commit_linger) {
  auto lock = db_.lock();
  db_.migrate(kMigrations);
}

OrderRepository::~OrderRepository() {
  // Every queued caller gets an answer before the connection goes.
  creates_.stop();
  payments_.stop();
}

void OrderRepository::create_async(std::shared_ptr<const NewOrder> order, CreateCallback done) {
  auto outcome = std::make_shared<CreateOutcome>();
  creates_.submit([this, order, outcome](storage::Database&) { *outcome = create_in_batch(*order); },
                  [outcome, done = std::move(done)](std::exception_ptr error) {
                    try {
                      done(error, error ? CreateOutcome{} : std::move(*outcome));
                    } catch (const std::exception& e) {
                      log::error("order commit callback threw", {{"error", e.what()}});
                    }
                  });
}

CreateOutcome OrderRepository::create(const NewOrder& order) {
  std::promise<CreateOutcome> promise;
  auto result = promise.get_future();
  create_async(std::make_shared<const NewOrder>(order), [&promise](std::exception_ptr e, CreateOutcome o) {
    if (e) promise.set_exception(e);
    else promise.set_value(std::move(o));
  });
  return result.get();
}

// Group commit: no timer and no artificial wait. While one batch is being written and
// fsync'ed, new orders queue up; the next batch takes all of them. Under light load a
// batch is one order (latency = one commit); under heavy load batches grow until the
// fsync is shared by hundreds of orders.
CreateOutcome OrderRepository::create_in_batch(const NewOrder& order) {
  // A replica sharing PostgreSQL may win a race on the same Idempotency-Key: the unique key
  // refuses this insert; a second try in a fresh savepoint sees the winner's committed row
  // and replays it (SQLite serialises writers, so it never races). Any other error leaves
  // through the committer, which rolls this order back and fails only its caller.
  if (db_.backend() == storage::Backend::kSqlite) return create_locked(order);
  for (int attempt = 1;; ++attempt) {
    db_.prepare("SAVEPOINT place_order").run();
    try {
      auto outcome = create_locked(order);
      db_.prepare("RELEASE place_order").run();
      return outcome;
    } catch (const storage::DbError& e) {
      if (!e.is_constraint() || attempt > 1) throw;
    }
    db_.prepare("ROLLBACK TO place_order").run();
    db_.prepare("RELEASE place_order").run();
  }
}

void OrderRepository::insert_outbox(const kafka::Record& r) {
  db_.prepare("INSERT INTO outbox(topic, key, value, headers) VALUES (?, ?, ?, ?)")
      .bind_all(std::string_view(r.topic), std::string_view(r.key), std::string_view(r.value),
                std::string_view(headers_to_json(r.headers)))
      .run();
}

// Inside the batch transaction and the order's savepoint; the caller holds the db lock.
CreateOutcome OrderRepository::create_locked(const NewOrder& o) {
  if (o.idempotency_key) {
    auto s = db_.prepare("SELECT fingerprint, response_body FROM idempotency_keys WHERE key = ?");
    s.bind(1, *o.idempotency_key);
    if (s.step()) {
      auto fingerprint = s.text(0);
      auto response = s.text(1);
      if (fingerprint != o.fingerprint) return {CreateOutcome::Kind::kKeyReuse, {}};
      return {CreateOutcome::Kind::kReplay, std::move(response)};
    }
    db_.prepare("INSERT INTO idempotency_keys(key, fingerprint, order_id, response_body) VALUES (?, ?, ?, ?)")
        .bind_all(std::string_view(*o.idempotency_key), std::string_view(o.fingerprint),
                  std::string_view(o.order_id), std::string_view(o.response_body))
        .run();
  }
  const auto& c = o.command;
  db_.prepare("INSERT INTO orders(order_id, customer_id, customer_email, currency, total_amount, items, payment_token, "
         "status, correlation_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?)")
      .bind_all(std::string_view(o.order_id), std::string_view(c.customer_id), std::string_view(c.customer_email),
                std::string_view(c.currency), std::string_view(c.total.str()), std::string_view(o.items_json),
                std::string_view(c.payment_token), std::string_view(o.correlation_id),
                std::string_view(o.created_at), std::string_view(o.created_at))
      .run();
  db_.prepare("INSERT INTO order_status_history(order_id, status, reason, at) VALUES (?, 'PENDING', NULL, ?)")
      .bind_all(std::string_view(o.order_id), std::string_view(o.created_at))
      .run();
  const auto& r = o.event;
  db_.prepare("INSERT INTO outbox(topic, key, value, headers) VALUES (?, ?, ?, ?)")
      .bind_all(std::string_view(r.topic), std::string_view(r.key), std::string_view(r.value),
                std::string_view(headers_to_json(r.headers)))
      .run();
  return {CreateOutcome::Kind::kCreated, {}};
}

std::optional<OrderRow> OrderRepository::get_locked(const std::string& order_id, bool with_history,
                                                    bool for_update) {
  auto s = db_.prepare(std::string("SELECT ") + kOrderColumns + " FROM orders WHERE order_id = ?" +
                       std::string(for_update ? db_.for_update() : ""));
  s.bind(1, order_id);
  if (!s.step()) return std::nullopt;
  auto row = read_order(s);
  if (with_history) {
    // An order's history is PENDING, then at most one final status.
    auto h = db_.prepare("SELECT status, COALESCE(reason, ''), at FROM order_status_history WHERE order_id = ? "
                         "ORDER BY CASE WHEN status = 'PENDING' THEN 0 ELSE 1 END, at");
    h.bind(1, order_id);
    while (h.step()) row.history.push_back({h.text(0), h.text(1), h.text(2)});
  }
  return row;
}

std::optional<OrderRow> OrderRepository::get(const std::string& order_id) {
  auto lock = db_.lock();
  return get_locked(order_id, true);
}

std::vector<OrderRow> OrderRepository::list(const ListFilter& f) {
  auto lock = db_.lock();
  std::string sql = std::string("SELECT ") + kOrderColumns + " FROM orders WHERE 1=1";
  if (f.status) sql += " AND status = ?";
  if (f.customer_id) sql += " AND customer_id = ?";
  if (f.after) sql += " AND seq < ?";
  if (f.created_after) sql += " AND created_at >= ?";
  if (f.created_before) sql += " AND created_at < ?";
  sql += " ORDER BY seq DESC LIMIT ?";
  auto s = db_.prepare(sql);
  int i = 0;
  if (f.status) s.bind(++i, *f.status);
  if (f.customer_id) s.bind(++i, *f.customer_id);
  if (f.after) s.bind(++i, *f.after);
  if (f.created_after) s.bind(++i, *f.created_after);
  if (f.created_before) s.bind(++i, *f.created_before);
  s.bind(++i, f.limit);
  std::vector<OrderRow> rows;
  while (s.step()) rows.push_back(read_order(s));
  return rows;
}

ApplyOutcome OrderRepository::apply_payment_impl(const PaymentUpdate& u,
                                                 const std::function<kafka::Record(const OrderRow&)>& make_event) {
  // A lost race (PostgreSQL replicas) runs again in a later batch, seeing the winner's row.
  return retry_lost_race(
      [&] { return payments_.run([&](storage::Database&) { return apply_payment_locked(u, make_event); }); });
}

std::vector<ApplyOutcome> OrderRepository::apply_payments(
    const std::vector<PaymentUpdate>& updates,
    const std::function<kafka::Record(std::size_t, const OrderRow&)>& make_event) {
  std::vector<std::optional<ApplyOutcome>> outcomes(updates.size());
  std::vector<std::function<void(storage::Database&)>> works;
  works.reserve(updates.size());
  for (std::size_t i = 0; i < updates.size(); ++i) {
    works.emplace_back([this, i, &updates, &outcomes, &make_event](storage::Database&) {
      outcomes[i] = apply_payment_locked(updates[i], [&](const OrderRow& o) { return make_event(i, o); });
    });
  }
  auto errors = payments_.run_all(std::move(works));
  std::vector<ApplyOutcome> out;
  out.reserve(updates.size());
  for (std::size_t i = 0; i < updates.size(); ++i) {
    if (errors[i]) {
      try {
        std::rethrow_exception(errors[i]);
      } catch (const storage::DbError& e) {
        if (!e.is_constraint()) throw;
        // A lost race: runs again in a later batch, seeing the winner's row.
        out.push_back(apply_payment_impl(updates[i], [&](const OrderRow& o) { return make_event(i, o); }));
        continue;
      }
    }
    out.push_back(std::move(*outcomes[i]));
  }
  return out;
}

ApplyOutcome OrderRepository::apply_payment_locked(const PaymentUpdate& u,
                                                   const std::function<kafka::Record(const OrderRow&)>& make_event) {
  // Runs inside a payment batch's transaction, in its own savepoint (payments_), with the
  // db lock held. The order row first, locked: a replica applying another event of this
  // order waits here, and then sees that event's processed_events row below.
  auto order = get_locked(u.order_id, false, true);
  if (!order) return {ApplyOutcome::Kind::kUnknownOrder, std::nullopt};
  auto seen = db_.prepare("SELECT 1 FROM processed_events WHERE event_id = ?");
  seen.bind(1, u.event_id);
  if (seen.step()) return {ApplyOutcome::Kind::kDuplicate, std::nullopt};

  ApplyOutcome::Kind kind = ApplyOutcome::Kind::kApplied;
  const auto transition = on_payment(*parse_status(order->status), u.success, order->failure_reason);
  switch (transition) {
    case Transition::kApply:
    case Transition::kRecover: {
      const bool recovered = transition == Transition::kRecover;
      // A recovery keeps why the order had failed in its history entry.
      const std::optional<std::string> reason =
          recovered ? std::optional<std::string>("recovered after " + order->failure_reason)
                    : u.success ? std::optional<std::string>() : std::optional<std::string>(u.reason);
      order->status = std::string(to_string(u.success ? Status::kConfirmed : Status::kFailed));
      order->failure_reason = u.success ? "" : u.reason;
      order->updated_at = u.at;
      if (recovered) order->recovered_at = u.at;
      db_.prepare("UPDATE orders SET status = ?, failure_reason = ?, updated_at = ?, recovered_at = ? WHERE order_id = ?")
          .bind(1, order->status)
          .bind(2, u.success ? std::optional<std::string>() : std::optional<std::string>(u.reason))
          .bind(3, u.at)
          .bind(4, recovered ? std::optional<std::string>(u.at) : std::optional<std::string>())
          .bind(5, u.order_id)
          .run();
      db_.prepare("INSERT INTO order_status_history(order_id, status, reason, at) VALUES (?, ?, ?, ?)")
          .bind(1, u.order_id)
          .bind(2, order->status)
          .bind(3, reason)
          .bind(4, u.at)
          .run();
      insert_outbox(make_event(*order));
      if (recovered) kind = ApplyOutcome::Kind::kRecovered;
      break;
    }
    case Transition::kIgnore: kind = ApplyOutcome::Kind::kAlreadyFinal; break;
    case Transition::kConflict: kind = ApplyOutcome::Kind::kConflict; break;
  }
  db_.prepare("INSERT INTO processed_events(event_id, processed_at) VALUES (?, ?)")
      .bind_all(std::string_view(u.event_id), std::string_view(u.at))
      .run();
  const bool changed = kind == ApplyOutcome::Kind::kApplied || kind == ApplyOutcome::Kind::kRecovered;
  return {kind, changed ? std::move(order) : std::nullopt};
}

std::vector<OutboxEntry> OrderRepository::outbox_batch(int limit) {
  auto lock = db_.lock();
  if (!db_.try_lead("outbox-relay")) return {};
  auto s = db_.prepare("SELECT id, topic, key, value, headers FROM outbox ORDER BY id LIMIT ?");
  s.bind(1, limit);
  std::vector<OutboxEntry> out;
  while (s.step()) {
    OutboxEntry e;
    e.id = s.integer(0);
    e.record.topic = s.text(1);
    e.record.key = s.text(2);
    e.record.value = s.text(3);
    e.record.headers = headers_from_json(s.text(4));
    out.push_back(std::move(e));
  }
  return out;
}

// Deferred durability (no fsync of its own): a delete lost to an OS crash only publishes
// those records again, with the same ce_id, which every consumer dedupes.
void OrderRepository::outbox_remove(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return;
  auto lock = db_.lock();
  storage::Transaction tx(db_, storage::Durability::kDeferred);
  auto s = db_.prepare("DELETE FROM outbox WHERE id = ?");
  for (auto id : ids) {
    s.reset();
    s.bind(1, id);
    s.run();
  }
  tx.commit();
}

std::int64_t OrderRepository::outbox_size() {
  auto lock = db_.lock();
  auto s = db_.prepare("SELECT COUNT(*) FROM outbox");
  s.step();
  return s.integer(0);
}

orderflow::Status OrderRepository::ping() { return db_.ping(); }

}  // namespace orderflow::order
