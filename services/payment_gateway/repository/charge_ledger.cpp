#include "services/payment_gateway/repository/charge_ledger.hpp"

#include <array>
#include <string_view>

#include "libs/common/ids.hpp"

namespace orderflow::payment_gateway {
namespace {

constexpr std::array<std::string_view, 1> kMigrations{R"sql(
CREATE TABLE idempotency_keys (
  key          TEXT PRIMARY KEY,
  fingerprint  TEXT NOT NULL,
  order_id     TEXT NOT NULL,
  attempts     INTEGER NOT NULL,
  charge_id    TEXT,
  created_ms   INTEGER NOT NULL,
  updated_ms   INTEGER NOT NULL
);
CREATE TABLE charges (
  seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
  id                   TEXT NOT NULL UNIQUE,
  idempotency_key      TEXT NOT NULL UNIQUE,
  order_id             TEXT NOT NULL,
  amount_minor         INTEGER NOT NULL CHECK (amount_minor > 0),
  currency             TEXT NOT NULL,
  source               TEXT NOT NULL,
  status               TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
  failure_code         TEXT,
  failure_decline_code TEXT,
  failure_message      TEXT,
  created_ms           INTEGER NOT NULL
);
CREATE INDEX charges_by_order ON charges (order_id, seq);
CREATE TABLE attempts (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT NOT NULL,
  order_id        TEXT NOT NULL,
  attempt         INTEGER NOT NULL,
  outcome         TEXT NOT NULL,
  http_status     INTEGER NOT NULL,
  code            TEXT,
  charge_id       TEXT,
  created_ms      INTEGER NOT NULL
);
CREATE INDEX attempts_by_order ON attempts (order_id, seq);
)sql"};

constexpr std::string_view kChargeColumns =
    "c.id, c.idempotency_key, c.order_id, c.amount_minor, c.currency, c.status, c.failure_code, "
    "c.failure_decline_code, c.failure_message, c.created_ms, k.attempts";

ChargeRecord read_charge(const storage::Statement& s) {
  ChargeRecord r;
  r.id = s.text(0);
  r.idempotency_key = s.text(1);
  r.order_id = s.text(2);
  r.amount = Money::from_minor(s.integer(3));
  r.currency = s.text(4);
  r.status = s.text(5);
  r.failure_code = s.text(6);
  r.failure_decline_code = s.text(7);
  r.failure_message = s.text(8);
  r.created_ms = s.integer(9);
  r.attempts = static_cast<int>(s.integer(10));
  return r;
}

std::string_view outcome_name(ChargeDecision::Kind kind) {
  switch (kind) {
    case ChargeDecision::Kind::kSucceed:
      return "succeeded";
    case ChargeDecision::Kind::kDecline:
      return "declined";
    case ChargeDecision::Kind::kError:
      return "error";
  }
  return "error";
}

}  // namespace

ChargeLedger::ChargeLedger(storage::Database& db) : db_(db), committer_(db_) {
  auto lock = db_.lock();
  db_.migrate(kMigrations);
}

LedgerOutcome ChargeLedger::charge(const std::string& key, const ChargeRequest& request,
                                   std::int64_t now_ms, const Decide& decide) {
  auto once = [&](storage::Database&) { return charge_once(key, request, now_ms, decide); };
  try {
    return committer_.run(once);
  } catch (const storage::DbError& e) {
    // Only reachable if another connection (a second process on the same file, or a replica
    // on the same PostgreSQL database) stored the key between our read and our write: run
    // again (in a later batch), which now finds and replays it.
    if (!e.is_constraint()) throw;
    return committer_.run(once);
  }
}

struct ChargeLedger::AsyncCharge final {
  std::string key;
  ChargeRequest request;
  std::int64_t now_ms;
  Decide decide;
  ChargeDone done;
  LedgerOutcome outcome;
  bool again = false;  // ran a second time after losing a race (see charge())
};

void ChargeLedger::charge_async(std::string key, ChargeRequest request, std::int64_t now_ms, Decide decide,
                                ChargeDone done) {
  submit_charge(std::make_shared<AsyncCharge>(
      AsyncCharge{std::move(key), std::move(request), now_ms, std::move(decide), std::move(done), {}, false}));
}

void ChargeLedger::submit_charge(std::shared_ptr<AsyncCharge> c) {
  committer_.submit(
      [this, c](storage::Database&) { c->outcome = charge_once(c->key, c->request, c->now_ms, c->decide); },
      [this, c](std::exception_ptr error) {
        if (error && !c->again) {
          try {
            std::rethrow_exception(error);
          } catch (const storage::DbError& e) {
            if (e.is_constraint()) {  // as in charge(): a later batch finds and replays the key
              c->again = true;
              submit_charge(c);
              return;
            }
          } catch (...) {  // NOLINT(bugprone-empty-catch): answered below
          }
        }
        c->done(error, std::move(c->outcome));
      });
}

LedgerOutcome ChargeLedger::charge_once(const std::string& key, const ChargeRequest& request,
                                        std::int64_t now_ms, const Decide& decide) {
  // Inside the group committer's transaction and this charge's savepoint.
  const auto fp = fingerprint(request);

  std::optional<StoredKey> stored;
  std::optional<std::string> stored_charge;
  int previous_attempts = 0;
  {
    auto s = db_.prepare("SELECT fingerprint, attempts, charge_id FROM idempotency_keys WHERE key = ?" +
                         std::string(db_.for_update()));
    s.bind(1, key);
    if (s.step()) {
      stored_charge = s.optional_text(2);
      stored = StoredKey{s.text(0), stored_charge.has_value()};
      previous_attempts = static_cast<int>(s.integer(1));
    }
  }

  LedgerOutcome out;
  out.use = classify_key(stored, fp);
  if (out.use == KeyUse::kMismatch) return out;
  if (out.use == KeyUse::kReplay) {
    out.charge = find_locked(*stored_charge);
    if (!out.charge) throw storage::DbError("charge " + *stored_charge + " of key is missing", storage::DbError::Kind::kCorrupt);
    return out;
  }

  out.attempt = previous_attempts + 1;
  out.decision = decide(out.attempt);
  std::optional<std::string> charge_id;
  if (out.decision.final()) charge_id = "ch_" + ids::random_hex(12);

  db_.prepare(
         "INSERT INTO idempotency_keys (key, fingerprint, order_id, attempts, charge_id, created_ms, "
         "updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?) "
         "ON CONFLICT (key) DO UPDATE SET attempts = excluded.attempts, "
         "charge_id = excluded.charge_id, updated_ms = excluded.updated_ms")
      .bind_all(std::string_view(key), std::string_view(fp), std::string_view(request.order_id),
                out.attempt, charge_id, now_ms, now_ms)
      .run();

  if (charge_id) {
    const bool ok = out.decision.kind == ChargeDecision::Kind::kSucceed;
    auto failure = [&](const std::string& v) { return ok ? std::nullopt : std::optional<std::string>(v); };
    db_.prepare(
           "INSERT INTO charges (id, idempotency_key, order_id, amount_minor, currency, source, status, "
           "failure_code, failure_decline_code, failure_message, created_ms) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(std::string_view(*charge_id), std::string_view(key), std::string_view(request.order_id),
                  request.amount.minor(), std::string_view(request.currency),
                  std::string_view(request.source), std::string_view(ok ? "succeeded" : "failed"),
                  failure(out.decision.code), failure(out.decision.decline_code),
                  failure(out.decision.message), now_ms)
        .run();
  }

  db_.prepare(
         "INSERT INTO attempts (idempotency_key, order_id, attempt, outcome, http_status, code, "
         "charge_id, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(std::string_view(key), std::string_view(request.order_id), out.attempt,
                outcome_name(out.decision.kind), out.decision.http_status,
                out.decision.code.empty() ? std::nullopt : std::optional<std::string>(out.decision.code),
                charge_id, now_ms)
      .run();

  if (charge_id) {
    // What the rows just written hold (find_locked() would read the same back): one query
    // a charge fewer inside the group commit.
    const bool ok = out.decision.kind == ChargeDecision::Kind::kSucceed;
    ChargeRecord c;
    c.id = *charge_id;
    c.idempotency_key = key;
    c.order_id = request.order_id;
    c.amount = Money::from_minor(request.amount.minor());
    c.currency = request.currency;
    c.status = ok ? "succeeded" : "failed";
    if (!ok) {
      c.failure_code = out.decision.code;
      c.failure_decline_code = out.decision.decline_code;
      c.failure_message = out.decision.message;
    }
    c.created_ms = now_ms;
    c.attempts = out.attempt;
    out.charge = std::move(c);
  }
  return out;
}

std::optional<ChargeRecord> ChargeLedger::find_locked(const std::string& charge_id) {
  auto s = db_.prepare("SELECT " + std::string(kChargeColumns) +
                       " FROM charges c JOIN idempotency_keys k ON k.key = c.idempotency_key "
                       "WHERE c.id = ?");
  s.bind(1, charge_id);
  if (!s.step()) return std::nullopt;
  return read_charge(s);
}

std::optional<ChargeRecord> ChargeLedger::find(const std::string& charge_id) {
  auto lock = db_.lock();
  return find_locked(charge_id);
}

std::vector<ChargeRecord> ChargeLedger::charges(const std::string& order_id, int limit) {
  auto lock = db_.lock();
  std::string sql = "SELECT " + std::string(kChargeColumns) +
                    " FROM charges c JOIN idempotency_keys k ON k.key = c.idempotency_key ";
  sql += order_id.empty() ? "WHERE ?1 = '' " : "WHERE c.order_id = ?1 ";
  sql += "ORDER BY c.seq DESC LIMIT ?2";
  auto s = db_.prepare(sql);
  s.bind(1, order_id).bind(2, limit);
  std::vector<ChargeRecord> out;
  while (s.step()) out.push_back(read_charge(s));
  return out;
}

std::vector<AttemptRecord> ChargeLedger::attempts(const std::string& order_id, int limit) {
  auto lock = db_.lock();
  std::string sql =
      "SELECT idempotency_key, order_id, attempt, outcome, http_status, code, charge_id, created_ms "
      "FROM attempts ";
  sql += order_id.empty() ? "WHERE ?1 = '' " : "WHERE order_id = ?1 ";
  sql += "ORDER BY seq DESC LIMIT ?2";
  auto s = db_.prepare(sql);
  s.bind(1, order_id).bind(2, limit);
  std::vector<AttemptRecord> out;
  while (s.step()) {
    AttemptRecord a;
    a.idempotency_key = s.text(0);
    a.order_id = s.text(1);
    a.attempt = static_cast<int>(s.integer(2));
    a.outcome = s.text(3);
    a.http_status = static_cast<int>(s.integer(4));
    a.code = s.text(5);
    a.charge_id = s.optional_text(6);
    a.created_ms = s.integer(7);
    out.push_back(std::move(a));
  }
  return out;
}

Status ChargeLedger::ping() { return db_.ping(); }

}  // namespace orderflow::payment_gateway
