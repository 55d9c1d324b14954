#include "services/alerting/repository/schema.hpp"

#include <array>
#include <string_view>

namespace orderflow::alerting::repository {
namespace {

constexpr std::array<std::string_view, 2> kMigrations{
    R"sql(
CREATE TABLE alert_groups (
  id                 INTEGER PRIMARY KEY,
  topic              TEXT    NOT NULL,
  reason             TEXT    NOT NULL,
  window_start_ms    INTEGER NOT NULL,
  count              INTEGER NOT NULL,
  emailed            INTEGER NOT NULL DEFAULT 0,
  email_attempt_ms   INTEGER NOT NULL DEFAULT 0,
  webhook            TEXT    NOT NULL DEFAULT 'pending',
  webhook_attempt_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_groups_latest ON alert_groups (topic, reason, window_start_ms DESC, id DESC);
CREATE TABLE alerts (
  id                 INTEGER PRIMARY KEY,
  time_ms            INTEGER NOT NULL,
  topic              TEXT    NOT NULL,
  dlq_partition      INTEGER NOT NULL,
  dlq_offset         INTEGER NOT NULL,
  reason             TEXT    NOT NULL,
  order_id           TEXT    NOT NULL,
  error_message      TEXT    NOT NULL,
  correlation_id     TEXT    NOT NULL,
  event_type         TEXT    NOT NULL,
  original_topic     TEXT    NOT NULL,
  original_partition INTEGER NOT NULL,
  original_offset    INTEGER NOT NULL,
  consumer_group     TEXT    NOT NULL,
  attempts           INTEGER NOT NULL,
  first_failure_time TEXT    NOT NULL,
  last_failure_time  TEXT    NOT NULL,
  group_id           INTEGER NOT NULL REFERENCES alert_groups (id),
  UNIQUE (topic, dlq_partition, dlq_offset)
);
CREATE INDEX alerts_order ON alerts (order_id, id DESC);
)sql",
    // DLQ replays: one row per call (dry runs too), and one row per record and replay that
    // published it, which is how a second replay of the same record is recognised.
    R"sql(
CREATE TABLE dlq_replays (
  id               INTEGER PRIMARY KEY,
  time_ms          INTEGER NOT NULL,
  who              TEXT    NOT NULL,
  topic            TEXT    NOT NULL,
  selection_all    INTEGER NOT NULL,
  offsets          TEXT    NOT NULL,
  dry_run          INTEGER NOT NULL,
  force            INTEGER NOT NULL,
  count            INTEGER NOT NULL,
  already_replayed INTEGER NOT NULL,
  remaining        INTEGER NOT NULL,
  failed           INTEGER NOT NULL,
  correlation_id   TEXT    NOT NULL
);
CREATE INDEX dlq_replays_topic ON dlq_replays (topic, id DESC);
CREATE TABLE dlq_replayed (
  topic         TEXT    NOT NULL,
  dlq_partition INTEGER NOT NULL,
  dlq_offset    INTEGER NOT NULL,
  replay_id     INTEGER NOT NULL REFERENCES dlq_replays (id),
  PRIMARY KEY (topic, dlq_partition, dlq_offset, replay_id)
);
)sql"};

}  // namespace

void migrate(storage::Database& db) { db.migrate(kMigrations); }

}  // namespace orderflow::alerting::repository
