#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "libs/common/result.hpp"
#include "libs/kafka/client_config.hpp"
#include "libs/kafka/record.hpp"
#include "libs/observability/metrics.hpp"

namespace RdKafka {
class Producer;
}

namespace orderflow::kafka {

class DeliveryReporter;
class ClientEvents;

// An idempotent producer (enable.idempotence=true, acks=all): retries inside librdkafka
// never duplicate or reorder records of a partition. A background thread serves delivery
// reports; callbacks run on it and must be quick.
class Producer final {
 public:
  using DeliveryFn = std::function<void(const Status&)>;

  // With a registry, librdkafka statistics become kafka_* gauges (see ClientEvents).
  Producer(const ClientConfig& config, const std::string& client_id, metrics::Registry* registry = nullptr);
  ~Producer();  // flushes for up to 10 s, then stops
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues `record`; `on_delivery` runs once it is acknowledged by all in-sync replicas, or
  // has failed for good. Waits while librdkafka's queue is full.
  void send(Record record, DeliveryFn on_delivery);
  // Sends and waits for the acknowledgement.
  Status send_sync(Record record, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Sends every record, then waits once for all their acknowledgements (one wake-up for
  // the lot, and the records share produce requests): ok, or the first failure. A failure
  // does not undo the others (they may be delivered): callers retry idempotent records.
  Status send_all(std::vector<Record> records, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool flush(std::chrono::milliseconds timeout);
  int queue_length() const;
  // Asks the cluster for metadata: the health check's notion of "Kafka is reachable".
  Status ping(std::chrono::milliseconds timeout);

  RdKafka::Producer& handle() { return *producer_; }

 private:
  std::unique_ptr<DeliveryReporter> reporter_;
  std::unique_ptr<ClientEvents> events_;  // outlives producer_
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> running_{true};
  std::thread poller_;
};

}  // namespace orderflow::kafka
