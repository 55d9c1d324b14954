#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "libs/common/result.hpp"
#include "libs/kafka/client_config.hpp"
#include "libs/kafka/record.hpp"

namespace orderflow::alerting::clients {

// Reads records of a topic by position with a short-lived librdkafka consumer per call:
// assign() at the wanted offsets, consume, close. It joins no group and commits nothing, so
// it never disturbs the alerting consumer (or anyone's) offsets. Blocking, bounded by
// `timeout` per call: run it on the blocking pool.
class DlqReader final {
 public:
  DlqReader(kafka::ClientConfig config, std::string client_id, std::chrono::milliseconds timeout)
      : config_(std::move(config)), client_id_(std::move(client_id)), timeout_(timeout) {}

  struct Range final {
    std::int32_t partition = 0;
    std::int64_t start = 0;
    std::int64_t end = 0;  // exclusive
  };
  struct Batch final {
    std::vector<kafka::Record> records;  // in the order of the ranges, then by offset
    bool complete = true;                // false: the deadline passed before every range was read
  };
  using Keep = std::function<bool(std::int32_t partition, std::int64_t offset)>;

  // The records of `ranges` in turn, at most `limit` in all, those `keep` accepts (all
  // when empty). Fails when Kafka refuses (e.g. an unknown partition).
  Result<Batch> read(const std::string& topic, const std::vector<Range>& ranges, std::size_t limit,
                     const Keep& keep = {}) const;

 private:
  kafka::ClientConfig config_;
  std::string client_id_;
  std::chrono::milliseconds timeout_;
};

}  // namespace orderflow::alerting::clients
