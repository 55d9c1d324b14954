#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libs/common/result.hpp"
#include "libs/kafka/producer.hpp"

namespace orderflow::alerting::clients {

struct DlqTopic final {
  std::string topic;
  std::int64_t depth = 0;  // records retained: sum over partitions of high - low watermark
  int partitions = 0;
};

struct PartitionWatermarks final {
  std::int32_t partition = 0;
  std::int64_t low = 0;   // first retained offset
  std::int64_t high = 0;  // next offset to be written
};

// Lists the "*.dlq" topics and their depths through an existing client handle (metadata and
// watermark queries; no consumer group involved). Blocking: call it off I/O threads.
class DlqInspector final {
 public:
  explicit DlqInspector(kafka::Producer& producer,
                        std::chrono::milliseconds timeout = std::chrono::seconds(3))
      : producer_(producer), timeout_(timeout) {}
  Result<std::vector<DlqTopic>> topics();
  // The partitions of one "*.dlq" topic with their watermarks, by partition id; nullopt
  // when there is no such DLQ topic (or `topic` does not end in ".dlq").
  Result<std::optional<std::vector<PartitionWatermarks>>> partitions(const std::string& topic);

 private:
  kafka::Producer& producer_;
  std::chrono::milliseconds timeout_;
};

}  // namespace orderflow::alerting::clients
