#include "services/alerting/clients/dlq_inspector.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <memory>

namespace orderflow::alerting::clients {
namespace {

bool is_dlq_topic(const std::string& name) {
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".dlq") == 0;
}

}  // namespace

Result<std::vector<DlqTopic>> DlqInspector::topics() {
  RdKafka::Handle& handle = producer_.handle();
  RdKafka::Metadata* raw = nullptr;
  auto rc = handle.metadata(true, nullptr, &raw, static_cast<int>(timeout_.count()));
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (rc != RdKafka::ERR_NO_ERROR) return Error{"kafka-unavailable", RdKafka::err2str(rc), true};

  std::vector<DlqTopic> out;
  for (const auto* t : *metadata->topics()) {
    const std::string& name = t->topic();
    if (!is_dlq_topic(name)) continue;
    DlqTopic topic{name, 0, static_cast<int>(t->partitions()->size())};
    for (const auto* p : *t->partitions()) {
      std::int64_t low = 0;
      std::int64_t high = 0;
      auto wrc = handle.query_watermark_offsets(name, p->id(), &low, &high,
                                                static_cast<int>(timeout_.count()));
      if (wrc != RdKafka::ERR_NO_ERROR) {
        return Error{"kafka-unavailable",
                     name + "[" + std::to_string(p->id()) + "]: " + RdKafka::err2str(wrc), true};
      }
      topic.depth += std::max<std::int64_t>(0, high - low);
    }
    out.push_back(std::move(topic));
  }
  std::sort(out.begin(), out.end(),
            [](const DlqTopic& a, const DlqTopic& b) { return a.topic < b.topic; });
  return out;
}

Result<std::optional<std::vector<PartitionWatermarks>>> DlqInspector::partitions(
    const std::string& topic) {
  if (!is_dlq_topic(topic)) return std::optional<std::vector<PartitionWatermarks>>();
  RdKafka::Handle& handle = producer_.handle();
  // Metadata of all topics rather than of this one: asking for a named topic may create it
  // on a broker with auto.create.topics.enable.
  RdKafka::Metadata* raw = nullptr;
  auto rc = handle.metadata(true, nullptr, &raw, static_cast<int>(timeout_.count()));
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (rc != RdKafka::ERR_NO_ERROR) return Error{"kafka-unavailable", RdKafka::err2str(rc), true};
  for (const auto* t : *metadata->topics()) {
    if (t->topic() != topic) continue;
    if (t->err() != RdKafka::ERR_NO_ERROR) {
      return Error{"kafka-unavailable", topic + ": " + RdKafka::err2str(t->err()), true};
    }
    std::vector<PartitionWatermarks> out;
    for (const auto* p : *t->partitions()) {
      PartitionWatermarks w{p->id(), 0, 0};
      auto wrc = handle.query_watermark_offsets(topic, p->id(), &w.low, &w.high,
                                                static_cast<int>(timeout_.count()));
      if (wrc != RdKafka::ERR_NO_ERROR) {
        return Error{"kafka-unavailable",
                     topic + "[" + std::to_string(p->id()) + "]: " + RdKafka::err2str(wrc), true};
      }
      out.push_back(w);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.partition < b.partition; });
    return std::optional<std::vector<PartitionWatermarks>>(std::move(out));
  }
  return std::optional<std::vector<PartitionWatermarks>>();
}

}  // namespace orderflow::alerting::clients
