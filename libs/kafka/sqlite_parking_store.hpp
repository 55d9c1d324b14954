#pragma once

#include <string>

#include "libs/kafka/key_parking.hpp"
#include "libs/storage/database.hpp"

namespace orderflow::kafka {

// A durable ParkingStore in its own SQLite file (WAL, synchronous=FULL): blocked keys and
// parked records survive a restart. Thread-safe (one connection, serialised).
//   parked_keys    (key PRIMARY KEY, reason, since)
//   parked_records (id, key, topic, partition, offset, value, headers, timestamp;
//                   UNIQUE(topic, partition, offset), indexed by (key, id))
class SqliteParkingStore final : public ParkingStore {
 public:
  explicit SqliteParkingStore(const std::string& path);

  bool holds(const std::string& key) override;
  bool blocked(const std::string& key) override;
  void block(const std::string& key, const std::string& reason) override;
  void unblock(const std::string& key) override;
  void park(const Record& record) override;
  std::optional<Record> first_parked(const std::string& key) override;
  std::vector<Record> parked(const std::string& key) override;
  void remove(const Record& parked) override;
  std::vector<std::string> held_keys() override;

 private:
  std::vector<Record> read(const std::string& key, int limit);  // oldest first; -1: all
  storage::Database db_;
};

}  // namespace orderflow::kafka
