#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libs/common/result.hpp"
#include "libs/kafka/record.hpp"
#include "libs/storage/database.hpp"

namespace orderflow::console::repository {

// One Kafka record about an order, as the console indexed it.
struct IndexedEvent final {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t time_ms = 0;  // the record's timestamp
  std::string order_id;
  std::string type;           // ce_type ("" when absent)
  std::string ce_id;
  std::string correlation_id;
  std::string traceparent;
  std::string headers_json;   // [[name, value], ...] in record order
  std::string value;          // the payload as produced (JSON text for every orderflow event)
};

// The record's order id: its key (SPEC §4: every topic is keyed by order id), else the
// payload's "orderId"; "" when neither names one.
std::string order_id_of(const kafka::Record& r);
IndexedEvent to_indexed(const kafka::Record& r);

// Every record of every topic, by order id: "every Kafka event about an order" is a lookup,
// not a topic scan. SQLite (or PostgreSQL schema `console`), UNIQUE(topic, partition,
// offset), so a redelivered record is stored once. Thread-safe (serialised on the connection).
class EventIndex final {
 public:
  explicit EventIndex(storage::Database& db);

  // Stores the records (one transaction); returns how many were new.
  std::size_t add(const std::vector<IndexedEvent>& events);
  // The order's records, oldest first (timestamp, then topic/partition/offset).
  std::vector<IndexedEvent> by_order(const std::string& order_id, int limit = 1000);
  // The record at this position, if indexed.
  std::optional<IndexedEvent> at(const std::string& topic, std::int32_t partition, std::int64_t offset);
  std::int64_t count();
  Status ping() { return db_.ping(); }

 private:
  storage::Database& db_;
};

}  // namespace orderflow::console::repository
