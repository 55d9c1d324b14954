#include "libs/kafka/dlq.hpp"

#include <algorithm>

namespace orderflow::kafka {

Record make_dlq_record(const Record& original, const std::string& topic, const DlqFailure& f) {
  Record out;
  out.topic = topic;
  out.key = original.key;
  out.value = original.value;
  for (const auto& h : original.headers) {
    if (h.first.rfind("dlq-", 0) != 0 || h.first == "dlq-replayed-from") out.headers.push_back(h);
  }
  out.headers.emplace_back("dlq-original-topic", original.topic);
  out.headers.emplace_back("dlq-original-partition", std::to_string(original.partition));
  out.headers.emplace_back("dlq-original-offset", std::to_string(original.offset));
  out.headers.emplace_back("dlq-consumer-group", f.consumer_group);
  out.headers.emplace_back("dlq-reason", f.reason);
  // Keep the message to one line of bounded size: it lands in emails and dashboards.
  std::string msg = f.error_message.substr(0, 1000);
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  out.headers.emplace_back("dlq-error-message", msg);
  out.headers.emplace_back("dlq-attempts", std::to_string(f.attempts));
  out.headers.emplace_back("dlq-first-failure-time", f.first_failure_time);
  out.headers.emplace_back("dlq-last-failure-time", f.last_failure_time);
  return out;
}

}  // namespace orderflow::kafka
