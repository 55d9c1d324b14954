#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "libs/common/settings.hpp"
#include "libs/kafka/consumer.hpp"
#include "libs/kafka/record.hpp"
#include "libs/observability/metrics.hpp"
#include "libs/observability/trace.hpp"
#include "libs/observability/tracing.hpp"

namespace orderflow::kafka {

// One record of a wave, with the context of its CONSUMER span (what the handler makes the
// parent of whatever it produces or calls for this record).
struct Delivery final {
  const Record* record = nullptr;
  trace::Context context;
};

// The key whose records must be decided one after another: the record key, or the
// partition for keyless records.
std::string grouping_key(const Record& record);

// Splits the records `indexes` (ascending) of a poll batch into waves: each key
// (grouping_key) appears at
// most once per wave, and a key's records are in successive waves in the order polled. A
// wave's records can be decided together and in any order among themselves; wave n+1 only
// after wave n. Returns indexes into `batch`.
std::vector<std::vector<std::size_t>> split_waves(const std::vector<Record>& batch,
                                                  const std::vector<std::size_t>& indexes);

// The offset to store for each partition of a batch, given which of its records are done:
// the partition's first record not done, or its last record + 1 when all are.
std::map<std::pair<std::string, std::int32_t>, std::int64_t> next_offsets(const std::vector<Record>& batch,
                                                                         const std::vector<bool>& done);

// A consumer loop whose unit of work is a poll batch. One thread polls up to `max_batch`
// records (waiting up to 100 ms for the first, then taking what is already fetched),
// splits them into waves (split_waves), and hands each wave to the handler, which decides
// all of its records together — one database transaction, asynchronous produces waited for
// once — and returns when every outcome is durable and every output acknowledged. After
// each wave, each partition's offset moves past its records that are done. Under load batches grow and every per-call cost (a
// transaction, an fsync, a produce request, a thread wake-up) is shared; when idle a batch
// is one record, decided on the poll thread without any hand-off.
//
// A handler that throws gets the same wave again after a doubling back-off (100 ms .. 5 s),
// with new spans: it must be idempotent per record (a redelivery after a crash is the same
// thing). healthy() is false while a wave is failing. A crash redelivers each partition from
// its first record not decided (records of later keys that a wave decided may come back
// too: handlers dedupe by ce_id); a rebalance happens only between batches (inside poll),
// so no record is in hand when a partition moves.
class BatchConsumerLoop final {
 public:
  using Handler = std::function<void(std::span<const Delivery>)>;
  // A handler in two halves: start() sets a wave going (e.g. sends its gateway calls) and
  // returns what finishes it (waits for the answers, records and announces the outcomes;
  // empty when start() did everything). The loop then takes the next wave — polled without
  // waiting — and starts it before finishing the first, so one wave's waiting overlaps the
  // next one's work. Only waves with no key in common overlap (a wave sharing a key with
  // the one in hand waits for it), waves finish in the order polled and offsets move only
  // past finished waves: per-key order and the commit contract are the plain Handler's.
  // At most one wave is in hand while the next starts.
  using Finisher = std::function<void()>;
  struct Pipelined final {
    std::function<Finisher(std::span<const Delivery>)> start;
  };
  struct Options final {
    // 200, not more: a drain's batches of 500 made bursts that held new orders' requests
    // (p99 ~190 ms against ~105 ms) and ~5 MiB more memory in payment-service, for no more
    // throughput (bench/README.md, "The batch size").
    std::size_t max_batch = 200;
    // Records the handler would do nothing with (e.g. event types that are not the
    // service's): dropped before the waves — no span, no decoding. Cheap checks only.
    std::function<bool(const Record&)> ignore;
    // Where the loop reports the size of each batch it takes (histogram
    // kafka_consumer_batch_records{consumer}: its mean is records per poll, so how much of
    // every per-batch cost a record pays); none when null.
    metrics::Registry* registry = nullptr;
    // How long a batch may wait to fill while records are flowing: when the previous batch
    // came less than two lingers ago, a poll that got its first record takes what arrives
    // in the next `linger` too, so that at a moderate rate a transaction, an fsync and a
    // produce request serve several records rather than one each. An isolated record (the
    // previous one longer ago) is never held. 0: never wait.
    std::chrono::milliseconds linger{0};
    // --consumer-max-batch N (ORDERFLOW_CONSUMER_MAX_BATCH), --consumer-linger-ms
    // (ORDERFLOW_CONSUMER_LINGER_MS).
    static Options from(const Settings& settings, std::size_t default_max_batch = 200);
  };

  BatchConsumerLoop(Consumer& consumer, Handler handler, std::string name, Options options,
                    trace::Tracer* tracer = nullptr);
  BatchConsumerLoop(Consumer& consumer, Pipelined handler, std::string name, Options options,
                    trace::Tracer* tracer = nullptr);
  ~BatchConsumerLoop();
  BatchConsumerLoop(const BatchConsumerLoop&) = delete;
  BatchConsumerLoop& operator=(const BatchConsumerLoop&) = delete;

  void start();
  // Stops after the wave in hand (a wave waiting for its back-off is given up: its batch
  // comes back after a restart), then closes the consumer (commits stored offsets).
  void stop();
  bool healthy() const { return failing_.load() == 0; }
  // Records polled so far, batches handled, and waves started while another was in hand
  // (for tests and metrics).
  std::uint64_t records_polled() const { return records_polled_.load(); }
  std::uint64_t batches() const { return batches_.load(); }
  std::uint64_t overlapped_waves() const { return overlapped_waves_.load(); }

 private:
  // A poll batch and which of its records are decided.
  struct Batch {
    std::vector<Record> records;
    std::vector<bool> done;
  };
  // A wave started and not yet finished.
  struct InFlight {
    std::shared_ptr<Batch> batch;
    std::vector<std::size_t> wave;
    std::vector<Delivery> deliveries;
    std::vector<trace::Span> spans;
    Finisher finish;
    std::optional<std::string> error;  // start() threw
  };
  void run();
  // A CONSUMER span and its context for each record of the wave.
  void open_spans(const std::vector<Record>& batch, const std::vector<std::size_t>& wave,
                  std::vector<Delivery>& deliveries, std::vector<trace::Span>& spans);
  std::unique_ptr<InFlight> start_wave(std::shared_ptr<Batch> batch, std::vector<std::size_t> wave);
  // Finishes the wave (handing it again until it succeeds after a failure), then moves its
  // partitions' offsets past what is done; false when stopping.
  bool finish_wave(InFlight& w);
  // Lets a started wave's work end without storing its offsets (stopping behind a wave
  // that did not finish).
  void abandon(InFlight& w);
  // Hands the wave to the handler, start to finish, until it succeeds; false when stopping.
  // `failed`: the error of an attempt already made (logged, then a back-off first).
  bool handle_wave(const std::vector<Record>& batch, const std::vector<std::size_t>& wave,
                   std::optional<std::string> failed = std::nullopt);
  bool wait_backoff(std::chrono::milliseconds d);
  void store_offsets(const Batch& batch);

  Consumer& consumer_;
  Pipelined handler_;
  std::string name_;
  Options options_;
  trace::Tracer* tracer_;
  std::atomic<bool> running_{false};
  std::atomic<int> failing_{0};
  std::atomic<std::uint64_t> records_polled_{0};
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> overlapped_waves_{0};
  metrics::Histogram* batch_records_ = nullptr;  // options_.registry's, when given
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace orderflow::kafka
