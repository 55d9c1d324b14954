#include "libs/kafka/sqlite_parking_store.hpp"

#include <array>
#include <boost/json.hpp>

#include "libs/common/time.hpp"

namespace orderflow::kafka {
namespace {

constexpr std::array<std::string_view, 1> kMigrations{R"sql(
CREATE TABLE parked_keys (
  key    TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  since  TEXT NOT NULL
);
CREATE TABLE parked_records (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  key          TEXT NOT NULL,
  topic        TEXT NOT NULL,
  partition    INTEGER NOT NULL,
  offset       INTEGER NOT NULL,
  value        TEXT NOT NULL,
  headers      TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  UNIQUE (topic, partition, offset)
);
CREATE INDEX parked_records_key ON parked_records(key, id);
)sql"};

std::string headers_to_json(const Headers& headers) {
  boost::json::array a;
  for (const auto& [k, v] : headers) a.push_back(boost::json::array{boost::json::string(k), boost::json::string(v)});
  return boost::json::serialize(a);
}

Headers headers_from_json(const std::string& text) {
  Headers out;
  const auto parsed = boost::json::parse(text);  // named: a temporary would die before the loop body
  for (const auto& h : parsed.as_array()) {
    out.emplace_back(std::string(h.as_array().at(0).as_string()), std::string(h.as_array().at(1).as_string()));
  }
  return out;
}

}  // namespace

SqliteParkingStore::SqliteParkingStore(const std::string& path) : db_(path) { db_.migrate(kMigrations); }

bool SqliteParkingStore::holds(const std::string& key) {
  auto lock = db_.lock();
  auto s = db_.prepare(
      "SELECT EXISTS(SELECT 1 FROM parked_keys WHERE key = ?1) OR EXISTS(SELECT 1 FROM parked_records WHERE key = ?1)");
  s.bind(1, key);
  s.step();
  return s.integer(0) != 0;
}

bool SqliteParkingStore::blocked(const std::string& key) {
  auto lock = db_.lock();
  auto s = db_.prepare("SELECT 1 FROM parked_keys WHERE key = ?");
  s.bind(1, key);
  return s.step();
}

void SqliteParkingStore::block(const std::string& key, const std::string& reason) {
  auto lock = db_.lock();
  db_.prepare("INSERT INTO parked_keys(key, reason, since) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING")
      .bind_all(key, reason, now_iso8601())
      .run();
}

void SqliteParkingStore::unblock(const std::string& key) {
  auto lock = db_.lock();
  db_.prepare("DELETE FROM parked_keys WHERE key = ?").bind(1, key).run();
}

void SqliteParkingStore::park(const Record& r) {
  auto lock = db_.lock();
  db_.prepare(
         "INSERT INTO parked_records(key, topic, partition, offset, value, headers, timestamp_ms) "
         "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(topic, partition, offset) DO NOTHING")
      .bind_all(r.key, r.topic, static_cast<std::int64_t>(r.partition), r.offset, r.value, headers_to_json(r.headers),
                r.timestamp_ms)
      .run();
}

std::vector<Record> SqliteParkingStore::read(const std::string& key, int limit) {
  auto lock = db_.lock();
  auto s = db_.prepare(
      "SELECT topic, partition, offset, value, headers, timestamp_ms FROM parked_records WHERE key = ? "
      "ORDER BY id LIMIT ?");
  s.bind(1, key);
  s.bind(2, limit);
  std::vector<Record> out;
  while (s.step()) {
    Record r;
    r.key = key;
    r.topic = s.text(0);
    r.partition = static_cast<std::int32_t>(s.integer(1));
    r.offset = s.integer(2);
    r.value = s.text(3);
    r.headers = headers_from_json(s.text(4));
    r.timestamp_ms = s.integer(5);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<Record> SqliteParkingStore::first_parked(const std::string& key) {
  auto first = read(key, 1);
  if (first.empty()) return std::nullopt;
  return std::move(first.front());
}

std::vector<Record> SqliteParkingStore::parked(const std::string& key) { return read(key, -1); }

void SqliteParkingStore::remove(const Record& parked) {
  auto lock = db_.lock();
  db_.prepare("DELETE FROM parked_records WHERE topic = ? AND partition = ? AND offset = ?")
      .bind_all(parked.topic, static_cast<std::int64_t>(parked.partition), parked.offset)
      .run();
}

std::vector<std::string> SqliteParkingStore::held_keys() {
  auto lock = db_.lock();
  auto s = db_.prepare("SELECT key FROM parked_keys UNION SELECT key FROM parked_records");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

}  // namespace orderflow::kafka
