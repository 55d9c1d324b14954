#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "libs/common/settings.hpp"
#include "libs/kafka/consumer.hpp"
#include "libs/kafka/record.hpp"

namespace orderflow::kafka {

// Which offset of each partition may be committed when records finish out of order: the
// lowest offset still in flight, or the one after the last polled when none is. Everything
// below it is done. A partition that rewinds (a rebalance hands it back from its committed
// offset) is followed from the rewind point. Not thread-safe (the loop's lock guards it).
class OffsetTracker final {
 public:
  void started(const std::string& topic, std::int32_t partition, std::int64_t offset);
  // The partition's next offset to commit when it changed with this record, else nullopt.
  std::optional<std::int64_t> finished(const std::string& topic, std::int32_t partition, std::int64_t offset);
  std::size_t in_flight() const;

 private:
  struct Partition {
    std::multiset<std::int64_t> in_flight;
    std::int64_t last_polled = -1;
    std::int64_t stored = -1;
  };
  std::map<std::pair<std::string, std::int32_t>, Partition> partitions_;
};

// Records grouped by key: each key's records come out one at a time in arrival order, and
// a key is handed out again only after its record in hand is done; different keys are
// handed out in parallel. Not thread-safe (the loop's lock guards it).
class KeyedQueue final {
 public:
  // Queues `record`; true when its key became ready (nobody holds it).
  bool push(Record record);
  // The oldest record of the longest-waiting ready key; the key is held until done().
  // The reference stays valid until done() for that key.
  const Record* take();
  // The held record of `key` is done; true when the key became ready again.
  bool done(const std::string& key);
  bool has_ready() const { return !ready_.empty(); }
  std::size_t size() const { return size_; }

  // The grouping key: the record key, or its partition for records without one.
  static std::string key_of(const Record& record);

 private:
  std::unordered_map<std::string, std::deque<Record>> by_key_;
  std::deque<std::string> ready_;
  std::size_t size_ = 0;
};

// A consumer loop with key-level parallelism: one thread polls, `workers` threads run the
// handler. Records of one key are handled one after another in partition order; records
// of different keys at the same time (a slow call for one order never holds up another).
// An offset is stored only when it and every earlier offset of its partition are done, so
// a crash redelivers what was in flight and never skips a record. At most `max_in_flight`
// records are polled and not yet done (back-pressure on the poll thread).
//
// A failing record is retried like ConsumerLoop does (same span, same back-off), holding
// only its key; healthy() is false while any record is failing.
//
// After a rebalance, records of a partition this member lost may still be handled here
// while their new owner handles them too: handlers must be idempotent (they are for
// ConsumerLoop as well, for the record in hand).
class KeyedConsumerLoop final {
 public:
  using Handler = std::function<void(const Record&)>;
  struct Options final {
    std::size_t workers = 16;
    std::size_t max_in_flight = 0;  // 0: 4 x workers
    // Records the handler would do nothing with (e.g. event types that are not the
    // service's): when it answers true, the poll thread marks the record done at once — no
    // worker, no span, no decoding. Cheap checks only (it runs on the poll thread).
    std::function<bool(const Record&)> ignore;
    // --consumer-workers N / --consumer-max-in-flight N (ORDERFLOW_CONSUMER_WORKERS, ...).
    static Options from(const Settings& settings, std::size_t default_workers);
  };

  KeyedConsumerLoop(Consumer& consumer, Handler handler, std::string name, Options options,
                    trace::Tracer* tracer = nullptr);
  ~KeyedConsumerLoop();
  KeyedConsumerLoop(const KeyedConsumerLoop&) = delete;
  KeyedConsumerLoop& operator=(const KeyedConsumerLoop&) = delete;

  void start();
  // Stops polling, lets each worker finish the record in hand (queued records are not
  // handled and come back after a restart), then closes the consumer (commits offsets).
  void stop();
  bool healthy() const { return failing_.load() == 0; }
  std::size_t in_flight() const;

 private:
  void poll_loop();
  void work();
  bool wait_backoff(std::chrono::milliseconds d);

  Consumer& consumer_;
  Handler handler_;
  std::string name_;
  Options options_;
  trace::Tracer* tracer_;
  std::atomic<bool> running_{false};
  std::atomic<int> failing_{0};
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // a key became ready, or stopping
  std::condition_variable space_cv_;  // in flight dropped below the cap, or stopping
  std::condition_variable stop_cv_;   // back-off waits end at stop
  KeyedQueue queue_;
  OffsetTracker offsets_;
  std::thread poller_;
  std::vector<std::thread> workers_;
};

}  // namespace orderflow::kafka
