#include "services/payment/repository/payment_repository.hpp"

#include <array>
#include <boost/json.hpp>

#include "services/payment/domain/charge.hpp"

namespace orderflow::payment {
namespace {

constexpr std::array<std::string_view, 2> kMigrations{R"sql(
CREATE TABLE payments (
  order_id   TEXT PRIMARY KEY,
  event_id   TEXT NOT NULL,
  status     TEXT NOT NULL,
  charge_id  TEXT,
  reason     TEXT,
  amount     TEXT NOT NULL,
  currency   TEXT NOT NULL,
  attempts   INTEGER NOT NULL,
  records    TEXT NOT NULL,
  published  INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
)sql",
                                                      R"sql(
CREATE TABLE replays (
  replay_key TEXT PRIMARY KEY,
  order_id   TEXT NOT NULL,
  status     TEXT NOT NULL,
  decided_at TEXT NOT NULL
);
)sql"};

std::string records_to_json(const std::vector<kafka::Record>& records) {
  boost::json::array a;
  for (const auto& r : records) {
    boost::json::array headers;
    for (const auto& [k, v] : r.headers) headers.push_back(boost::json::array{boost::json::string(k), boost::json::string(v)});
    a.push_back({{"topic", r.topic}, {"key", r.key}, {"value", r.value}, {"headers", std::move(headers)}});
  }
  return boost::json::serialize(a);
}

std::vector<kafka::Record> records_from_json(const std::string& s) {
  std::vector<kafka::Record> out;
  auto parsed = boost::json::parse(s);
  for (const auto& v : parsed.as_array()) {
    const auto& o = v.as_object();
    kafka::Record r;
    r.topic = o.at("topic").as_string();
    r.key = o.at("key").as_string();
    r.value = o.at("value").as_string();
    for (const auto& h : o.at("headers").as_array()) {
      r.headers.emplace_back(std::string(h.as_array().at(0).as_string()), std::string(h.as_array().at(1).as_string()));
    }
    out.push_back(std::move(r));
  }
  return out;
}

constexpr const char* kColumns =
    "order_id, event_id, status, COALESCE(charge_id, ''), COALESCE(reason, ''), amount, currency, attempts, records, "
    "published, created_at";

PaymentRow read_row(const storage::Statement& s) {
  PaymentRow r;
  r.order_id = s.text(0);
  r.event_id = s.text(1);
  r.status = s.text(2);
  r.charge_id = s.text(3);
  r.reason = s.text(4);
  r.amount = s.text(5);
  r.currency = s.text(6);
  r.attempts = static_cast<int>(s.integer(7));
  r.records = records_from_json(s.text(8));
  r.published = s.integer(9) != 0;
  r.created_at = s.text(10);
  return r;
}

}  // namespace

PaymentRepository::PaymentRepository(const std::string& url, const std::string& schema) : db_(url, schema) {
  db_.migrate(kMigrations);
}

std::optional<PaymentRow> PaymentRepository::find(const std::string& order_id) {
  auto lock = db_.lock();
  auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM payments WHERE order_id = ?");
  s.bind(1, order_id);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

namespace {

// True when inserted, false when the order already has an outcome.
bool insert_row(storage::Database& db, const PaymentRow& r, const std::string& records) {
  db.prepare(
        "INSERT INTO payments(order_id, event_id, status, charge_id, reason, amount, currency, attempts, records, "
        "published, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT(order_id) DO NOTHING")
      .bind_all(r.order_id, r.event_id, r.status, r.charge_id, r.reason, r.amount, r.currency,
                static_cast<std::int64_t>(r.attempts), records, r.created_at)
      .run();
  return db.changes() == 1;
}

void set_published(storage::Database& db, const std::string& order_id) {
  db.prepare("UPDATE payments SET published = 1 WHERE order_id = ?").bind(1, order_id).run();
}

}  // namespace

bool PaymentRepository::record(const PaymentRow& r) {
  const auto records = records_to_json(r.records);
  return committer_.run([&](storage::Database& db) { return insert_row(db, r, records); });
}

std::vector<bool> PaymentRepository::record_all(const std::vector<PaymentRow>& rows) {
  std::vector<char> inserted(rows.size(), 0);
  std::vector<std::function<void(storage::Database&)>> works;
  works.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    works.emplace_back([&, i, records = records_to_json(rows[i].records)](storage::Database& db) {
      inserted[i] = insert_row(db, rows[i], records) ? 1 : 0;
    });
  }
  for (const auto& e : committer_.run_all(std::move(works))) {
    if (e) std::rethrow_exception(e);
  }
  return {inserted.begin(), inserted.end()};
}

void PaymentRepository::mark_published_all(const std::vector<std::string>& order_ids) {
  std::vector<std::function<void(storage::Database&)>> works;
  works.reserve(order_ids.size());
  for (const auto& id : order_ids) works.emplace_back([&id](storage::Database& db) { set_published(db, id); });
  for (const auto& e : committer_.run_all(std::move(works), storage::Durability::kDeferred)) {
    if (e) std::rethrow_exception(e);
  }
}

// Needs no durability of its own (a batch of nothing else is committed without an fsync):
// if the flag is lost in a crash, a redelivered OrderCreated finds the row unpublished and
// publishes the same records again (same ce_id), which consumers dedupe by ce_id.
void PaymentRepository::mark_published(const std::string& order_id) {
  committer_.run([&](storage::Database& db) { set_published(db, order_id); }, storage::Durability::kDeferred);
}

bool PaymentRepository::replay_seen(const std::string& replay_key) {
  auto lock = db_.lock();
  auto s = db_.prepare("SELECT 1 FROM replays WHERE replay_key = ?");
  s.bind(1, replay_key);
  return s.step();
}

bool PaymentRepository::record_replay(const PaymentRow& r, const std::string& replay_key) {
  struct Unchanged final {};  // thrown inside the batch: rolls this write back to its savepoint
  const auto records = records_to_json(r.records);
  try {
    committer_.run([&](storage::Database& db) {
      db.prepare("INSERT INTO replays(replay_key, order_id, status, decided_at) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT(replay_key) DO NOTHING")
          .bind_all(replay_key, r.order_id, r.status, r.created_at)
          .run();
      if (db.changes() != 1) throw Unchanged{};
      db.prepare(
            "UPDATE payments SET event_id = ?, status = ?, charge_id = ?, reason = ?, attempts = ?, records = ?, "
            "published = 0, created_at = ? WHERE order_id = ? AND status = 'FAILED' AND reason = ?")
          .bind_all(r.event_id, r.status, r.charge_id, r.reason, static_cast<std::int64_t>(r.attempts), records,
                    r.created_at, r.order_id, std::string(kGatewayUnavailableReason))
          .run();
      if (db.changes() != 1) throw Unchanged{};  // the replay key stays unused
    });
  } catch (const Unchanged&) {
    return false;
  }
  return true;
}

std::vector<PaymentRow> PaymentRepository::list(const std::optional<std::string>& order_id, int limit) {
  auto lock = db_.lock();
  std::string sql = std::string("SELECT ") + kColumns + " FROM payments";
  if (order_id) sql += " WHERE order_id = ?";
  sql += " ORDER BY created_at DESC, order_id DESC LIMIT ?";
  auto s = db_.prepare(sql);
  int i = 0;
  if (order_id) s.bind(++i, *order_id);
  s.bind(++i, limit);
  std::vector<PaymentRow> out;
  while (s.step()) out.push_back(read_row(s));
  return out;
}

Status PaymentRepository::ping() { return db_.ping(); }

}  // namespace orderflow::payment
