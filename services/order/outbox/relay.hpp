#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "libs/kafka/producer.hpp"
#include "services/order/probe.hpp"
#include "services/order/repository/order_repository.hpp"

namespace orderflow::order {

// Publishes what the outbox holds, oldest first, and deletes each row only after Kafka
// acknowledged it (acks=all, idempotent producer). A crash between the two re-publishes
// the row on restart: consumers deduplicate by ce_id, so at-least-once here is
// exactly-once in effect.
class OutboxRelay final {
 public:
  OutboxRelay(OrderRepository& repo, kafka::Producer& producer, Probe& probe);
  ~OutboxRelay();
  void start();
  // Publishes what is pending (bounded wait), then stops.
  void stop();
  // Wakes the relay: rows were committed.
  void notify();

 private:
  void run();
  bool publish_batch();

  OrderRepository& repo_;
  kafka::Producer& producer_;
  Probe& probe_;
  // Rows acknowledged by Kafka whose delete failed (a full disk): deleted before the next
  // batch is read, so they are not published again meanwhile (relay thread only).
  std::vector<std::int64_t> published_not_removed_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace orderflow::order
