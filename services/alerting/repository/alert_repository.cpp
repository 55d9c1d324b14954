#include "services/alerting/repository/alert_repository.hpp"

#include "services/alerting/repository/schema.hpp"

namespace orderflow::alerting::repository {
namespace {

constexpr std::string_view kGroupColumns =
    "id, topic, reason, window_start_ms, count, emailed, email_attempt_ms, webhook, "
    "webhook_attempt_ms";

std::string_view sv(const std::string& s) { return s; }

domain::Group read_group(const storage::Statement& st, int first) {
  domain::Group g;
  g.id = st.integer(first);
  g.topic = st.text(first + 1);
  g.reason = st.text(first + 2);
  g.window_start_ms = st.integer(first + 3);
  g.count = st.integer(first + 4);
  g.emailed = st.integer(first + 5) != 0;
  g.email_attempt_ms = st.integer(first + 6);
  g.webhook = st.text(first + 7);
  g.webhook_attempt_ms = st.integer(first + 8);
  return g;
}

}  // namespace

AlertRepository::AlertRepository(storage::Database& db) : db_(db) {
  auto lock = db_.lock();
  migrate(db_);
}

std::optional<domain::Group> AlertRepository::group_by_id(std::int64_t id) {
  auto st = db_.prepare("SELECT " + std::string(kGroupColumns) + " FROM alert_groups WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_group(st, 0);
}

std::optional<domain::Group> AlertRepository::latest_group(const std::string& topic,
                                                           const std::string& reason) {
  auto st = db_.prepare("SELECT " + std::string(kGroupColumns) +
                        " FROM alert_groups WHERE topic = ? AND reason = ? ORDER BY "
                        "window_start_ms DESC, id DESC LIMIT 1");
  st.bind(1, sv(topic)).bind(2, sv(reason));
  if (!st.step()) return std::nullopt;
  return read_group(st, 0);
}

AlertRepository::Admitted AlertRepository::admit(const domain::DlqEntry& e, std::int64_t now_ms,
                                                 std::chrono::milliseconds window) {
  auto lock = db_.lock();
  storage::Transaction tx(db_);
  Admitted out;
  {
    auto known = db_.prepare(
        "SELECT id, group_id FROM alerts WHERE topic = ? AND dlq_partition = ? AND dlq_offset = ?");
    known.bind(1, sv(e.topic)).bind(2, static_cast<std::int64_t>(e.partition)).bind(3, e.offset);
    if (known.step()) {
      out.alert_id = known.integer(0);
      auto group = group_by_id(known.integer(1));
      if (!group)
        throw storage::DbError("alert " + std::to_string(out.alert_id) + " has no group",
                               storage::DbError::Kind::kCorrupt);
      out.group = std::move(*group);
      return out;  // read only: the transaction rolls back
    }
  }

  auto admission =
      domain::admit(latest_group(e.topic, e.reason), e.topic, e.reason, now_ms, window);
  out.group = std::move(admission.group);
  if (admission.new_window) {
    auto ins = db_.prepare(
        "INSERT INTO alert_groups (topic, reason, window_start_ms, count) VALUES (?, ?, ?, ?) RETURNING id");
    ins.bind(1, sv(out.group.topic))
        .bind(2, sv(out.group.reason))
        .bind(3, out.group.window_start_ms)
        .bind(4, out.group.count);
    if (!ins.step()) throw storage::DbError("INSERT .. RETURNING returned no id");
    out.group.id = ins.integer(0);
    ins.run();  // to the end: the statement is done before COMMIT
  } else {
    auto upd = db_.prepare("UPDATE alert_groups SET count = ? WHERE id = ?");
    upd.bind(1, out.group.count).bind(2, out.group.id);
    upd.run();
  }

  auto ins = db_.prepare(
      "INSERT INTO alerts (time_ms, topic, dlq_partition, dlq_offset, reason, order_id, "
      "error_message, correlation_id,"
      " event_type, original_topic, original_partition, original_offset, consumer_group, attempts,"
      " first_failure_time, last_failure_time, group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?, ?, ?, ?, ?) RETURNING id");
  ins.bind(1, now_ms)
      .bind(2, sv(e.topic))
      .bind(3, static_cast<std::int64_t>(e.partition))
      .bind(4, e.offset)
      .bind(5, sv(e.reason))
      .bind(6, sv(e.order_id))
      .bind(7, sv(e.error_message))
      .bind(8, sv(e.correlation_id))
      .bind(9, sv(e.event_type))
      .bind(10, sv(e.original_topic))
      .bind(11, e.original_partition)
      .bind(12, e.original_offset)
      .bind(13, sv(e.consumer_group))
      .bind(14, e.attempts)
      .bind(15, sv(e.first_failure_time))
      .bind(16, sv(e.last_failure_time))
      .bind(17, out.group.id);
  if (!ins.step()) throw storage::DbError("INSERT .. RETURNING returned no id");
  out.alert_id = ins.integer(0);
  ins.run();  // to the end: the statement is done before COMMIT
  out.inserted = true;
  tx.commit();
  return out;
}

void AlertRepository::mark_email(std::int64_t group_id, bool sent, std::int64_t at_ms) {
  auto lock = db_.lock();
  auto st = db_.prepare(
      "UPDATE alert_groups SET emailed = CASE WHEN ? = 1 THEN 1 ELSE emailed END, email_attempt_ms = ? "
      "WHERE id = ?");
  st.bind(1, sent ? 1 : 0).bind(2, at_ms).bind(3, group_id);
  st.run();
}

void AlertRepository::mark_webhook(std::int64_t group_id, std::string_view result,
                                   std::int64_t at_ms) {
  auto lock = db_.lock();
  // "ok" is final: a later failed retry (there is none by plan) must not undo it.
  auto st = db_.prepare(
      "UPDATE alert_groups SET webhook = CASE WHEN webhook = 'ok' THEN 'ok' ELSE ? END, "
      "webhook_attempt_ms = ?"
      " WHERE id = ?");
  st.bind(1, result).bind(2, at_ms).bind(3, group_id);
  st.run();
}

std::vector<Alert> AlertRepository::list(const std::optional<std::string>& order_id, int limit) {
  auto lock = db_.lock();
  std::string sql =
      "SELECT a.id, a.time_ms, a.topic, a.dlq_partition, a.dlq_offset, a.reason, a.order_id, "
      "a.error_message,"
      " a.correlation_id, a.event_type, a.original_topic, a.original_partition, a.original_offset, "
      "a.consumer_group,"
      " a.attempts, a.first_failure_time, a.last_failure_time, g.id, g.topic, g.reason, "
      "g.window_start_ms, g.count,"
      " g.emailed, g.email_attempt_ms, g.webhook, g.webhook_attempt_ms"
      " FROM alerts a JOIN alert_groups g ON g.id = a.group_id ";
  sql +=
      order_id ? "WHERE a.order_id = ? ORDER BY a.id DESC LIMIT ?" : "ORDER BY a.id DESC LIMIT ?";
  auto st = db_.prepare(sql);
  int i = 0;
  if (order_id) st.bind(++i, sv(*order_id));
  st.bind(++i, limit);
  std::vector<Alert> out;
  while (st.step()) {
    Alert a;
    a.id = st.integer(0);
    a.time_ms = st.integer(1);
    auto& e = a.entry;
    e.topic = st.text(2);
    e.partition = static_cast<std::int32_t>(st.integer(3));
    e.offset = st.integer(4);
    e.reason = st.text(5);
    e.order_id = st.text(6);
    e.error_message = st.text(7);
    e.correlation_id = st.text(8);
    e.event_type = st.text(9);
    e.original_topic = st.text(10);
    e.original_partition = st.integer(11);
    e.original_offset = st.integer(12);
    e.consumer_group = st.text(13);
    e.attempts = st.integer(14);
    e.first_failure_time = st.text(15);
    e.last_failure_time = st.text(16);
    a.group = read_group(st, 17);
    out.push_back(std::move(a));
  }
  return out;
}

Status AlertRepository::ping() { return db_.ping(); }

}  // namespace orderflow::alerting::repository
