#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "libs/kafka/client_config.hpp"
#include "libs/kafka/record.hpp"
#include "libs/observability/metrics.hpp"
#include "libs/observability/tracing.hpp"

namespace RdKafka {
class KafkaConsumer;
class Message;
}

namespace orderflow::kafka {

class ClientEvents;

// A group member with at-least-once delivery: offsets are stored only by store(), i.e.
// after the record's outcome is durable (enable.auto.offset.store=false), and committed
// in the background and on close(). Topics starting with '^' are regular expressions.
class Consumer final {
 public:
  Consumer(const ClientConfig& config, const std::string& group_id, const std::vector<std::string>& topics,
           const std::string& client_id, metrics::Registry* registry = nullptr);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  std::optional<Record> poll(std::chrono::milliseconds timeout);
  // Up to `max` records: waits up to `timeout` for the first, then takes what is already
  // fetched and, when that is not `max`, sleeps `fill` once and takes what arrived meanwhile
  // (0: never waits to fill the batch). Empty when nothing came.
  std::vector<Record> poll_batch(std::size_t max, std::chrono::milliseconds timeout,
                                 std::chrono::milliseconds fill = std::chrono::milliseconds(0));
  // Marks `record` done: its offset + 1 is committed with the next commit.
  void store(const Record& record);
  // The partition's next offset to commit (every record below it is done).
  void store_offset(const std::string& topic, std::int32_t partition, std::int64_t next_offset);
  // Leaves the group after committing stored offsets. Idempotent.
  void close();
  const std::string& group_id() const { return group_id_; }
  // How often a poll found the prefetch queue empty while behind and woke the fetcher
  // (poll, poll_batch; for tests and metrics).
  std::uint64_t fetcher_wakes() const { return fetcher_wakes_.load(); }

 private:
  // The first message within `timeout`, waking a stalled fetcher after 10 ms (consumer.cpp).
  std::unique_ptr<RdKafka::Message> consume_first(std::chrono::milliseconds timeout);
  void wake_stalled_fetcher();

  std::string group_id_;
  std::unique_ptr<ClientEvents> events_;  // outlives consumer_
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::chrono::steady_clock::time_point last_wake_{};
  struct Position {
    std::string topic;
    std::int32_t partition = -1;
    std::int64_t offset = -1;
  } woken_;  // the last partition position a wake-up was for
  std::atomic<std::uint64_t> fetcher_wakes_{0};
  bool closed_ = false;
};

// Runs a consumer's poll loop on its own thread. The handler decides each record's fate
// (apply, DLQ, skip); when it returns, the offset is stored. When it throws, nothing is
// stored and the same record is handed to it again after a back-off: a record is never
// skipped because a dependency (database, broker) was briefly unavailable.
//
// Each handling attempt is a CONSUMER span continuing the record's `traceparent` header;
// the handler sees it as trace::current(), so what it produces or calls is its child.
class ConsumerLoop final {
 public:
  using Handler = std::function<void(const Record&)>;

  ConsumerLoop(Consumer& consumer, Handler handler, std::string name, trace::Tracer* tracer = nullptr);
  ~ConsumerLoop();
  void start();
  // Stops polling after the record in hand, then closes the consumer (commits offsets).
  void stop();
  bool healthy() const { return failing_.load() == 0; }

 private:
  void run();
  bool wait_backoff(std::chrono::milliseconds d);

  Consumer& consumer_;
  Handler handler_;
  std::string name_;
  trace::Tracer* tracer_;
  std::atomic<bool> running_{false};
  std::atomic<int> failing_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace orderflow::kafka
