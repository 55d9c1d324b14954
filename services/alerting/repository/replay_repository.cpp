#include "services/alerting/repository/replay_repository.hpp"

#include "services/alerting/repository/schema.hpp"

namespace orderflow::alerting::repository {

ReplayRepository::ReplayRepository(storage::Database& db) : db_(db) {
  auto lock = db_.lock();
  migrate(db_);
}

std::set<domain::Position> ReplayRepository::replayed(const std::string& topic) {
  auto lock = db_.lock();
  auto st =
      db_.prepare("SELECT DISTINCT dlq_partition, dlq_offset FROM dlq_replayed WHERE topic = ?");
  st.bind(1, topic);
  std::set<domain::Position> out;
  while (st.step()) {
    out.insert({static_cast<std::int32_t>(st.integer(0)), st.integer(1)});
  }
  return out;
}

domain::ReplayAudit ReplayRepository::record(domain::ReplayAudit a) {
  auto lock = db_.lock();
  storage::Transaction tx(db_);
  auto ins = db_.prepare(
      "INSERT INTO dlq_replays (time_ms, who, topic, selection_all, offsets, dry_run, force, "
      "count, already_replayed, remaining, failed, correlation_id)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  ins.bind_all(a.time_ms, a.who, a.topic, a.all ? 1 : 0, domain::offsets_to_json(a.offsets),
               a.dry_run ? 1 : 0, a.force ? 1 : 0, a.count, a.already_replayed, a.remaining,
               a.failed, a.correlation_id);
  if (!ins.step()) throw storage::DbError("INSERT .. RETURNING returned no id");
  a.id = ins.integer(0);
  ins.run();  // to the end: the statement is done before COMMIT
  if (!a.dry_run) {
    auto mark = db_.prepare(
        "INSERT INTO dlq_replayed (topic, dlq_partition, dlq_offset, replay_id)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
    for (const auto& p : a.offsets) {
      mark.reset();
      mark.bind_all(a.topic, p.partition, p.offset, a.id);
      mark.run();
    }
  }
  tx.commit();
  return a;
}

std::vector<domain::ReplayAudit> ReplayRepository::list(const std::optional<std::string>& topic,
                                                        int limit) {
  auto lock = db_.lock();
  std::string sql =
      "SELECT id, time_ms, who, topic, selection_all, offsets, dry_run, force, count, "
      "already_replayed, remaining, failed, correlation_id FROM dlq_replays ";
  sql += topic ? "WHERE topic = ? ORDER BY id DESC LIMIT ?" : "ORDER BY id DESC LIMIT ?";
  auto st = db_.prepare(sql);
  int i = 0;
  if (topic) st.bind(++i, *topic);
  st.bind(++i, limit);
  std::vector<domain::ReplayAudit> out;
  while (st.step()) {
    domain::ReplayAudit a;
    a.id = st.integer(0);
    a.time_ms = st.integer(1);
    a.who = st.text(2);
    a.topic = st.text(3);
    a.all = st.integer(4) != 0;
    a.offsets = domain::offsets_from_json(st.text(5));
    a.dry_run = st.integer(6) != 0;
    a.force = st.integer(7) != 0;
    a.count = st.integer(8);
    a.already_replayed = st.integer(9);
    a.remaining = st.integer(10);
    a.failed = st.integer(11);
    a.correlation_id = st.text(12);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace orderflow::alerting::repository
