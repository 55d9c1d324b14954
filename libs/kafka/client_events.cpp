#include "libs/kafka/client_events.hpp"

#include <boost/json.hpp>

#include "libs/observability/log.hpp"

namespace orderflow::kafka {
namespace {

namespace json = boost::json;

double number(const json::object& o, std::string_view key, double fallback = -1) {
  auto* v = o.if_contains(key);
  if (v == nullptr) return fallback;
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_double()) return v->as_double();
  return fallback;
}

std::string string(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

StatsMetrics::StatsMetrics(metrics::Registry& registry, std::string group)
    : group_(std::move(group)),
      lag_(registry.gauge("kafka_consumer_lag",
                          "Records between a partition's high watermark and the group's position "
                          "(librdkafka consumer_lag)",
                          {"topic", "partition", "group"})),
      queue_messages_(registry.gauge("kafka_producer_queue_messages",
                                     "Records waiting in librdkafka's producer queues (msg_cnt)",
                                     {"client"})),
      rtt_(registry.gauge(
          "kafka_client_request_latency_seconds",
          "Broker request round-trip time seen by the client over the last statistics window",
          {"client", "broker", "percentile"})) {}

bool StatsMetrics::update(std::string_view stats_json) {
  boost::system::error_code ec;
  auto doc = json::parse(stats_json, ec);
  if (ec || !doc.is_object()) return false;
  const auto& root = doc.as_object();
  const std::string client = string(root, "name");
  const std::string type = string(root, "type");
  if (client.empty()) return false;

  if (type == "producer") queue_messages_.with({client}).set(number(root, "msg_cnt", 0));

  if (auto* brokers = root.if_contains("brokers"); brokers != nullptr && brokers->is_object()) {
    for (const auto& [key, b] : brokers->as_object()) {
      if (!b.is_object()) continue;
      const auto& broker = b.as_object();
      // Bootstrap placeholders and logical brokers (GroupCoordinator) are not real brokers.
      if (number(broker, "nodeid") < 0 || string(broker, "source") == "logical") continue;
      auto* rtt = broker.if_contains("rtt");
      if (rtt == nullptr || !rtt->is_object()) continue;
      std::string name = string(broker, "name");
      if (name.empty()) name = std::string(key);
      rtt_.with({client, name, "p50"}).set(number(rtt->as_object(), "p50", 0) / 1e6);
      rtt_.with({client, name, "p99"}).set(number(rtt->as_object(), "p99", 0) / 1e6);
    }
  }

  if (type != "consumer") return true;
  auto* topics = root.if_contains("topics");
  if (topics == nullptr || !topics->is_object()) return true;
  for (const auto& [topic_key, t] : topics->as_object()) {
    if (!t.is_object()) continue;
    auto* parts = t.as_object().if_contains("partitions");
    if (parts == nullptr || !parts->is_object()) continue;
    for (const auto& [part_key, p] : parts->as_object()) {
      if (!p.is_object()) continue;
      const auto& part = p.as_object();
      const double partition = number(part, "partition");
      const double lag = number(part, "consumer_lag");
      if (partition < 0 || lag < 0)
        continue;  // UA partition, or lag unknown (nothing fetched/committed)
      lag_.with({std::string(topic_key), std::string(part_key), group_}).set(lag);
    }
  }
  return true;
}

void ClientEvents::event_cb(RdKafka::Event& e) {
  switch (e.type()) {
    case RdKafka::Event::EVENT_LOG: {
      auto sev = e.severity();
      auto level = sev <= RdKafka::Event::EVENT_SEVERITY_ERROR     ? log::Level::kError
                   : sev <= RdKafka::Event::EVENT_SEVERITY_WARNING ? log::Level::kWarn
                   : sev <= RdKafka::Event::EVENT_SEVERITY_INFO    ? log::Level::kInfo
                                                                   : log::Level::kDebug;
      log::write(level, "librdkafka", {{"facility", e.fac()}, {"detail", e.str()}});
      break;
    }
    case RdKafka::Event::EVENT_ERROR:
      log::write(e.fatal() ? log::Level::kError : log::Level::kWarn, "kafka client error",
                 {{"error", RdKafka::err2str(e.err())}, {"detail", e.str()}});
      break;
    case RdKafka::Event::EVENT_STATS:
      if (stats_ && !stats_->update(e.str())) log::warn("unreadable librdkafka statistics", {});
      break;
    default:
      break;
  }
}

}  // namespace orderflow::kafka
