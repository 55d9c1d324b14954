#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <optional>
#include <string>
#include <string_view>

#include "libs/observability/metrics.hpp"

namespace orderflow::kafka {

// Maps librdkafka's statistics JSON (emitted every `statistics.interval.ms`) to gauges:
//
//   kafka_consumer_lag{topic,partition,group}
//       per assigned partition; -1 (unknown: nothing fetched or committed yet) is skipped
//   kafka_producer_queue_messages{client}
//       records waiting in the producer's queues (msg_cnt)
//   kafka_client_request_latency_seconds{client,broker,percentile}
//       broker round-trip time over the window, p50 and p99 (rtt); "percentile" because
//       promtool reserves "quantile" for summaries
//
// `client` is librdkafka's handle name (`<client.id>#producer-1`), unique per process, so a
// service's producer and consumer do not overwrite each other's series. Families are shared
// by every client of a registry (Registry returns the existing family for a known name).
class StatsMetrics final {
 public:
  // `group` is the consumer group (the statistics do not carry it); empty for producers.
  StatsMetrics(metrics::Registry& registry, std::string group);
  // Applies one statistics document; returns false (and changes nothing) when it is not
  // valid JSON of the expected shape.
  bool update(std::string_view stats_json);

 private:
  std::string group_;
  metrics::Family<metrics::Gauge>& lag_;
  metrics::Family<metrics::Gauge>& queue_messages_;
  metrics::Family<metrics::Gauge>& rtt_;
};

// The event callback of one client handle: librdkafka's log lines and errors go to the
// service's JSON log; statistics go to StatsMetrics when the client was given a registry.
// librdkafka keeps a raw pointer, so this must outlive the handle.
class ClientEvents final : public RdKafka::EventCb {
 public:
  ClientEvents() = default;
  ClientEvents(metrics::Registry& registry, std::string group)
      : stats_(std::in_place, registry, std::move(group)) {}

  void event_cb(RdKafka::Event& e) override;
  bool has_stats() const { return stats_.has_value(); }

 private:
  std::optional<StatsMetrics> stats_;
};

// statistics.interval.ms used when a client has a registry (overridable with
// ORDERFLOW_KAFKA_PROP_STATISTICS_INTERVAL_MS).
inline constexpr const char* kDefaultStatsIntervalMs = "5000";

}  // namespace orderflow::kafka
