#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "libs/common/result.hpp"
#include "libs/kafka/producer.hpp"

namespace orderflow::kafka {

struct TopicSpec final {
  std::string name;
  int partitions = 6;
  int replication_factor = 1;
};

// Creates the topics that do not exist yet (an existing topic is left as it is).
Status ensure_topics(Producer& producer, const std::vector<TopicSpec>& topics,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace orderflow::kafka
