#include "services/notification/repository/notification_repository.hpp"

#include <array>
#include <string_view>

namespace orderflow::notification::repository {
namespace {

constexpr std::array<std::string_view, 1> kMigrations{
    R"sql(
CREATE TABLE notifications (
  id             INTEGER PRIMARY KEY,
  order_id       TEXT    NOT NULL,
  outcome        TEXT    NOT NULL CHECK (outcome IN ('CONFIRMED', 'FAILED')),
  recipient      TEXT    NOT NULL,
  subject        TEXT    NOT NULL,
  channel        TEXT    NOT NULL,
  event_id       TEXT    NOT NULL UNIQUE,
  correlation_id TEXT    NOT NULL DEFAULT '',
  sent_at_ms     INTEGER NOT NULL,
  UNIQUE (order_id, outcome)
);
CREATE INDEX notifications_sent_at ON notifications (sent_at_ms DESC, id DESC);
)sql"};

std::string_view sv(const std::string& s) { return s; }

}  // namespace

NotificationRepository::NotificationRepository(storage::Database& db) : db_(db) {
  auto lock = db_.lock();
  db_.migrate(kMigrations);
}

namespace {

// True when inserted, false when already recorded (same event or same order outcome).
bool insert(storage::Database& db, const Notification& n) {
  db.prepare(
        "INSERT INTO notifications (order_id, outcome, recipient, subject, channel, event_id, correlation_id, "
        "sent_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
      .bind_all(sv(n.order_id), domain::outcome_name(n.outcome), sv(n.recipient), sv(n.subject), sv(n.channel),
                sv(n.event_id), sv(n.correlation_id), n.sent_at_ms)
      .run();
  return db.changes() == 1;
}

}  // namespace

domain::Known NotificationRepository::lookup(const std::string& event_id,
                                             const std::string& order_id, domain::Outcome outcome) {
  auto lock = db_.lock();
  domain::Known known;
  // One statement, so one read transaction (one WAL read lock) for both questions.
  auto s = db_.prepare(
      "SELECT CASE WHEN EXISTS (SELECT 1 FROM notifications WHERE event_id = ?) THEN 1 ELSE 0 END, "
      "CASE WHEN EXISTS (SELECT 1 FROM notifications WHERE order_id = ? AND outcome = ?) THEN 1 ELSE 0 END");
  s.bind(1, sv(event_id)).bind(2, sv(order_id)).bind(3, domain::outcome_name(outcome));
  s.step();
  known.event_recorded = s.integer(0) != 0;
  known.outcome_recorded = s.integer(1) != 0;
  return known;
}

bool NotificationRepository::record(const Notification& n) {
  return committer_.run([&n](storage::Database& db) {
    return insert(db, n);
  });
}

void NotificationRepository::record_all(const std::vector<Notification>& ns) {
  std::vector<std::function<void(storage::Database&)>> works;
  works.reserve(ns.size());
  for (const auto& n : ns) {
    works.emplace_back([&n](storage::Database& db) {
      insert(db, n);
    });
  }
  for (const auto& e : committer_.run_all(std::move(works))) {
    if (e) std::rethrow_exception(e);
  }
}

std::vector<Notification> NotificationRepository::list(const std::optional<std::string>& order_id,
                                                       int limit) {
  auto lock = db_.lock();
  constexpr std::string_view kColumns =
      "SELECT order_id, outcome, recipient, subject, channel, event_id, correlation_id, sent_at_ms "
      "FROM notifications ";
  auto st = order_id
                ? db_.prepare(std::string(kColumns) +
                              "WHERE order_id = ? ORDER BY sent_at_ms DESC, id DESC LIMIT ?")
                : db_.prepare(std::string(kColumns) + "ORDER BY sent_at_ms DESC, id DESC LIMIT ?");
  int i = 0;
  if (order_id) st.bind(++i, sv(*order_id));
  st.bind(++i, limit);
  std::vector<Notification> out;
  while (st.step()) {
    Notification n;
    n.order_id = st.text(0);
    n.outcome = domain::parse_outcome_name(st.text(1)).value_or(domain::Outcome::kFailed);
    n.recipient = st.text(2);
    n.subject = st.text(3);
    n.channel = st.text(4);
    n.event_id = st.text(5);
    n.correlation_id = st.text(6);
    n.sent_at_ms = st.integer(7);
    out.push_back(std::move(n));
  }
  return out;
}

Status NotificationRepository::ping() { return db_.ping(); }

}  // namespace orderflow::notification::repository
