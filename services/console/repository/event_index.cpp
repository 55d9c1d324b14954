#include "services/console/repository/event_index.hpp"

#include <array>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string_view>

namespace orderflow::console::repository {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE events (
  topic TEXT NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  order_id TEXT NOT NULL,
  type TEXT NOT NULL,
  ce_id TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  traceparent TEXT NOT NULL,
  headers TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (topic, kafka_partition, kafka_offset)
);
CREATE INDEX events_by_order ON events (order_id, time_ms);
)sql"};

constexpr const char* kColumns =
    "topic, kafka_partition, kafka_offset, time_ms, order_id, type, ce_id, correlation_id, "
    "traceparent, headers, value";

IndexedEvent read_row(storage::Statement& st) {
  IndexedEvent e;
  e.topic = st.text(0);
  e.partition = static_cast<std::int32_t>(st.integer(1));
  e.offset = st.integer(2);
  e.time_ms = st.integer(3);
  e.order_id = st.text(4);
  e.type = st.text(5);
  e.ce_id = st.text(6);
  e.correlation_id = st.text(7);
  e.traceparent = st.text(8);
  e.headers_json = st.text(9);
  e.value = st.text(10);
  return e;
}

}  // namespace

std::string order_id_of(const kafka::Record& r) {
  if (!r.key.empty()) return r.key;
  boost::system::error_code ec;
  auto v = json::parse(r.value, ec);
  if (ec || !v.is_object()) return "";
  const auto* id = v.as_object().if_contains("orderId");
  return id && id->is_string() ? std::string(id->as_string()) : "";
}

IndexedEvent to_indexed(const kafka::Record& r) {
  IndexedEvent e;
  e.topic = r.topic;
  e.partition = r.partition;
  e.offset = r.offset;
  e.time_ms = r.timestamp_ms;
  e.order_id = order_id_of(r);
  e.type = r.header("ce_type").value_or("");
  e.ce_id = r.header("ce_id").value_or("");
  e.correlation_id = r.header("ce_correlationid").value_or("");
  e.traceparent = r.header("traceparent").value_or("");
  json::array headers;
  for (const auto& [name, value] : r.headers) headers.push_back(json::array{json::string(name), json::string(value)});
  e.headers_json = json::serialize(headers);
  e.value = r.value;
  return e;
}

EventIndex::EventIndex(storage::Database& db) : db_(db) {
  auto lock = db_.lock();
  db_.migrate(kMigrations);
}

std::size_t EventIndex::add(const std::vector<IndexedEvent>& events) {
  auto lock = db_.lock();
  // Deferred durability: the index is rebuilt from Kafka whenever it loses a tail (its
  // offsets are committed after the write, so a lost write is read again).
  storage::Transaction tx(db_, storage::Durability::kDeferred);
  auto ins = db_.prepare(std::string("INSERT INTO events (") + kColumns +
                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
  std::size_t added = 0;
  for (const auto& e : events) {
    ins.reset();
    ins.bind_all(e.topic, static_cast<std::int64_t>(e.partition), e.offset, e.time_ms, e.order_id, e.type,
                 e.ce_id, e.correlation_id, e.traceparent, e.headers_json, e.value);
    ins.run();
    added += static_cast<std::size_t>(db_.changes());
  }
  tx.commit();
  return added;
}

std::vector<IndexedEvent> EventIndex::by_order(const std::string& order_id, int limit) {
  auto lock = db_.lock();
  auto st = db_.prepare(std::string("SELECT ") + kColumns +
                        " FROM events WHERE order_id = ? ORDER BY time_ms, topic, kafka_partition, "
                        "kafka_offset LIMIT ?");
  st.bind_all(order_id, limit);
  std::vector<IndexedEvent> out;
  while (st.step()) out.push_back(read_row(st));
  return out;
}

std::optional<IndexedEvent> EventIndex::at(const std::string& topic, std::int32_t partition,
                                           std::int64_t offset) {
  auto lock = db_.lock();
  auto st = db_.prepare(std::string("SELECT ") + kColumns +
                        " FROM events WHERE topic = ? AND kafka_partition = ? AND kafka_offset = ?");
  st.bind_all(topic, static_cast<std::int64_t>(partition), offset);
  if (!st.step()) return std::nullopt;
  auto e = read_row(st);
  st.run();
  return e;
}

std::int64_t EventIndex::count() {
  auto lock = db_.lock();
  auto st = db_.prepare("SELECT COUNT(*) FROM events");
  st.step();
  auto n = st.integer(0);
  st.run();
  return n;
}

}  // namespace orderflow::console::repository
