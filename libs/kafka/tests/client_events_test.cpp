#include "libs/kafka/client_events.hpp"

#include <gtest/gtest.h>

#include <string>

namespace orderflow::kafka {
namespace {

// Trimmed from real librdkafka 2.0.2 statistics of a consumer (payment-service) and a
// producer (order-service) against a single-node broker; rtt values are microseconds.
constexpr const char* kConsumerStats = R"({
  "name": "payment-service#consumer-2", "client_id": "payment-service", "type": "consumer",
  "ts": 123456789, "time": 1700000000, "age": 5000123, "replyq": 0, "msg_cnt": 3, "msg_size": 0,
  "brokers": {
    "127.0.0.1:39092/bootstrap": {"name": "127.0.0.1:39092/bootstrap", "nodeid": -1, "state": "UP",
      "rtt": {"min": 0, "max": 0, "avg": 0, "p50": 0, "p99": 0, "cnt": 0}},
    "127.0.0.1:39092/1": {"name": "127.0.0.1:39092/1", "nodeid": 1, "nodename": "127.0.0.1:39092",
      "source": "learned", "state": "UP",
      "rtt": {"min": 120, "max": 51200, "avg": 900, "sum": 90000, "stddev": 5, "p50": 600,
              "p75": 800, "p90": 1500, "p95": 2000, "p99": 50175, "p99_99": 51200, "outofrange": 0,
              "hdrsize": 11376, "cnt": 100}},
    "GroupCoordinator": {"name": "GroupCoordinator", "nodeid": -1, "source": "logical",
      "rtt": {"p50": 700, "p99": 900, "cnt": 10}}
  },
  "topics": {
    "order-events": {"topic": "order-events", "age": 5000, "metadata_age": 1000,
      "partitions": {
        "0": {"partition": 0, "broker": 1, "leader": 1, "fetch_state": "active",
              "hi_offset": 12, "committed_offset": 10, "app_offset": 10, "consumer_lag": 2,
              "consumer_lag_stored": 2},
        "1": {"partition": 1, "broker": 1, "leader": 1, "fetch_state": "active",
              "hi_offset": 0, "committed_offset": -1001, "consumer_lag": -1},
        "-1": {"partition": -1, "broker": -1, "leader": -1, "consumer_lag": -1}
      }}
  },
  "cgrp": {"state": "up", "join_state": "steady", "rebalance_cnt": 1, "assignment_size": 6}
})";

constexpr const char* kProducerStats = R"({
  "name": "order-service#producer-1", "client_id": "order-service", "type": "producer",
  "msg_cnt": 7, "msg_size": 2048, "msg_max": 100000,
  "brokers": {"127.0.0.1:39092/1": {"name": "127.0.0.1:39092/1", "nodeid": 1,
    "rtt": {"p50": 2000, "p99": 4000, "cnt": 5}}},
  "topics": {"order-events": {"topic": "order-events",
    "partitions": {"0": {"partition": 0, "consumer_lag": -1, "msgq_cnt": 7}}}}
})";

bool contains(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(StatsMetrics, MapsConsumerLagSkippingUnknownAndUnassigned) {
  metrics::Registry registry;
  StatsMetrics stats(registry, "payment-service");
  ASSERT_TRUE(stats.update(kConsumerStats));
  auto text = registry.render();
  EXPECT_TRUE(contains(
      text, R"(kafka_consumer_lag{topic="order-events",partition="0",group="payment-service"} 2)"))
      << text;
  EXPECT_EQ(text.find(R"(partition="1")"), std::string::npos) << "lag -1 is unknown, not a value";
  EXPECT_EQ(text.find(R"(partition="-1")"), std::string::npos);
  // A consumer's msg_cnt is not a producer queue.
  EXPECT_EQ(text.find("kafka_producer_queue_messages{"), std::string::npos);
}

TEST(StatsMetrics, MapsBrokerRoundTripQuantilesInSeconds) {
  metrics::Registry registry;
  StatsMetrics stats(registry, "payment-service");
  ASSERT_TRUE(stats.update(kConsumerStats));
  auto text = registry.render();
  const std::string series =
      R"(kafka_client_request_latency_seconds{client="payment-service#consumer-2",broker="127.0.0.1:39092/1",)";
  EXPECT_TRUE(contains(text, series + R"(percentile="p50"} 0.00059999999999999995)")) << text;
  EXPECT_TRUE(contains(text, series + R"(percentile="p99"} 0.050174999999999997)")) << text;
  EXPECT_EQ(text.find("bootstrap"), std::string::npos) << "bootstrap placeholders are not brokers";
  EXPECT_EQ(text.find("GroupCoordinator"), std::string::npos) << "logical brokers are not brokers";
}

TEST(StatsMetrics, MapsProducerQueueAndSharesFamiliesAcrossClients) {
  metrics::Registry registry;
  StatsMetrics consumer(registry, "payment-service");
  StatsMetrics producer(registry, "");
  ASSERT_TRUE(consumer.update(kConsumerStats));
  ASSERT_TRUE(producer.update(kProducerStats));
  auto text = registry.render();
  EXPECT_TRUE(
      contains(text, R"(kafka_producer_queue_messages{client="order-service#producer-1"} 7)"))
      << text;
  EXPECT_EQ(text.find("# TYPE kafka_client_request_latency_seconds"),
            text.rfind("# TYPE kafka_client_request_latency_seconds"));
  EXPECT_NE(
      text.find(
          R"(client="order-service#producer-1",broker="127.0.0.1:39092/1",percentile="p99"} 0.0040000000000000001)"),
      std::string::npos)
      << text;
}

TEST(StatsMetrics, RejectsMalformedDocuments) {
  metrics::Registry registry;
  StatsMetrics stats(registry, "g");
  EXPECT_FALSE(stats.update("{not json"));
  EXPECT_FALSE(stats.update("[1,2]"));
  EXPECT_FALSE(stats.update(R"({"type":"consumer"})"));
}

}  // namespace
}  // namespace orderflow::kafka
