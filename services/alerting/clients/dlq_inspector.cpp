#include "services/alerting/clients/dlq_inspector.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <memory>

namespace orderflow::alerting::clients {

Result<std::vector<DlqTopic>> DlqInspector::topics() {
  RdKafka::Handle& handle = producer_.handle();
  RdKafka::Metadata* raw = nullptr;
  auto rc = handle.metadata(true, nullptr, &raw, static_cast<int>(timeout_.count()));
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (rc != RdKafka::ERR_NO_ERROR) return Error{"kafka-unavailable", RdKafka::err2str(rc), true};

  std::vector<DlqTopic> out;
  for (const auto* t : *metadata->topics()) {
    const std::string& name = t->topic();
    if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".dlq") != 0) continue;
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

}  // namespace orderflow::alerting::clients
