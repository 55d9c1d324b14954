#include "libs/kafka/batch_loop.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "libs/common/thread_name.hpp"
#include "libs/kafka/handle_record.hpp"
#include "libs/observability/log.hpp"

namespace orderflow::kafka {

std::string grouping_key(const Record& record) {
  if (!record.key.empty()) return record.key;
  // Keyless records keep their partition's order. '\0' cannot start a real key here.
  return std::string(1, '\0') + record.topic + '/' + std::to_string(record.partition);
}

std::vector<std::vector<std::size_t>> split_waves(const std::vector<Record>& batch,
                                                  const std::vector<std::size_t>& indexes) {
  std::vector<std::vector<std::size_t>> waves;
  // How many records of each key came before: a record's wave is that count.
  std::unordered_map<std::string, std::size_t> seen;
  seen.reserve(indexes.size());
  for (auto i : indexes) {
    const auto n = seen[grouping_key(batch[i])]++;
    if (n == waves.size()) waves.emplace_back();
    waves[n].push_back(i);
  }
  return waves;
}

std::map<std::pair<std::string, std::int32_t>, std::int64_t> next_offsets(const std::vector<Record>& batch,
                                                                         const std::vector<bool>& done) {
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> next;
  std::set<std::pair<std::string, std::int32_t>> stuck;  // partitions with an undone record
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& r = batch[i];
    std::pair<std::string, std::int32_t> tp{r.topic, r.partition};
    if (stuck.contains(tp)) continue;
    auto& n = next.try_emplace(tp, r.offset).first->second;
    if (done[i]) {
      n = std::max(n, r.offset + 1);
    } else {
      n = std::min(n, r.offset);
      stuck.insert(std::move(tp));
    }
  }
  return next;
}

BatchConsumerLoop::Options BatchConsumerLoop::Options::from(const Settings& settings, std::size_t default_max_batch) {
  Options o;
  o.max_batch = static_cast<std::size_t>(
      settings.integer("consumer-max-batch", static_cast<std::int64_t>(default_max_batch), 1, 100'000));
  return o;
}

BatchConsumerLoop::BatchConsumerLoop(Consumer& consumer, Handler handler, std::string name, Options options,
                                     trace::Tracer* tracer)
    : consumer_(consumer), handler_(std::move(handler)), name_(std::move(name)), options_(std::move(options)),
      tracer_(tracer) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  if (options_.registry != nullptr) {
    batch_records_ = &options_.registry
                          ->histogram("kafka_consumer_batch_records",
                                      "Records per poll batch a consumer loop took (the per-batch costs are shared by them)",
                                      {"consumer"}, {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000})
                          .with({name_});
  }
}

BatchConsumerLoop::~BatchConsumerLoop() { stop(); }

void BatchConsumerLoop::start() {
  running_ = true;
  thread_ = std::thread([this] {
    name_this_thread("consume");
    run();
  });
}

void BatchConsumerLoop::stop() {
  {
    std::lock_guard lock(mu_);
    running_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  consumer_.close();
}

bool BatchConsumerLoop::wait_backoff(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return !running_.load(); });
}

void BatchConsumerLoop::run() {
  std::vector<Record> batch;
  while (running_) {
    batch = consumer_.poll_batch(options_.max_batch, std::chrono::milliseconds(100));
    if (batch.empty()) continue;
    records_polled_ += batch.size();
    if (batch_records_ != nullptr) batch_records_->observe(static_cast<double>(batch.size()));
    std::vector<bool> done(batch.size());
    std::vector<std::size_t> todo;
    todo.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (options_.ignore && options_.ignore(batch[i])) {
        done[i] = true;
      } else {
        todo.push_back(i);
      }
    }
    for (const auto& wave : split_waves(batch, todo)) {
      // Stopping mid-batch: what is not stored comes back after a restart.
      if (!handle_wave(batch, wave)) return;
      for (auto i : wave) done[i] = true;
      // After each wave, every partition's done prefix: a crash redelivers only from the
      // first record not yet decided.
      for (const auto& [tp, next] : next_offsets(batch, done)) consumer_.store_offset(tp.first, tp.second, next);
    }
    if (todo.empty()) {
      for (const auto& [tp, next] : next_offsets(batch, done)) consumer_.store_offset(tp.first, tp.second, next);
    }
    ++batches_;
  }
}

bool BatchConsumerLoop::handle_wave(const std::vector<Record>& batch, const std::vector<std::size_t>& wave) {
  auto backoff = std::chrono::milliseconds(100);
  bool failed = false;
  FailureLog failures;
  std::vector<Delivery> deliveries(wave.size());
  std::vector<trace::Span> spans(wave.size());
  for (;;) {
    for (std::size_t i = 0; i < wave.size(); ++i) {
      const Record& record = batch[wave[i]];
      auto [span, context] = detail::start_consumer_span(tracer_, record, consumer_.group_id());
      span.tag("messaging.batch.message_count", std::to_string(wave.size()));
      deliveries[i] = Delivery{&record, std::move(context)};
      spans[i] = std::move(span);
    }
    try {
      handler_(deliveries);
      if (failed) {
        --failing_;
        log::info("batch handling recovered", {{"consumer", name_}, {"records", std::to_string(wave.size())},
                                               {"attempts", std::to_string(failures.attempts() + 1)},
                                               {"failedForS", failures.failing_for()}});
      }
      for (auto& s : spans) s.end();
      return true;
    } catch (const std::exception& e) {
      if (!failed) ++failing_;
      failed = true;
      for (auto& s : spans) {
        s.tag("error", e.what());
        s.end();
      }
      // The first failure, then once per interval while it lasts (a full disk, a broker
      // down): the wave is retried every few seconds, and so is its error.
      if (failures.failed()) {
        const Record& first = *deliveries.front().record;
        log::error("batch handling failed; will retry",
                   {{"consumer", name_}, {"topic", first.topic}, {"records", std::to_string(wave.size())},
                    {"firstKey", first.key}, {"error", e.what()}, {"attempts", std::to_string(failures.attempts())},
                    {"failingForS", failures.failing_for()}, {"traceId", deliveries.front().context.trace_id}});
      }
      if (!wait_backoff(backoff)) {
        --failing_;
        return false;
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

}  // namespace orderflow::kafka
