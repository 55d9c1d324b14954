#include "libs/kafka/batch_loop.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

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
  o.linger = settings.millis("consumer-linger-ms", 0);
  return o;
}

BatchConsumerLoop::BatchConsumerLoop(Consumer& consumer, Handler handler, std::string name, Options options,
                                     trace::Tracer* tracer)
    : BatchConsumerLoop(consumer,
                        Pipelined{[handler = std::move(handler)](std::span<const Delivery> wave) -> Finisher {
                          handler(wave);
                          return {};
                        }},
                        std::move(name), std::move(options), tracer) {}

BatchConsumerLoop::BatchConsumerLoop(Consumer& consumer, Pipelined handler, std::string name, Options options,
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

void BatchConsumerLoop::store_offsets(const Batch& batch) {
  for (const auto& [tp, next] : next_offsets(batch.records, batch.done)) consumer_.store_offset(tp.first, tp.second, next);
}

void BatchConsumerLoop::run() {
  // The wave in hand: started, not finished. While there is one, the next poll takes only
  // what is already fetched, and the next wave starts before this one finishes.
  std::unique_ptr<InFlight> in_hand;
  const auto finish_in_hand = [&] {
    auto w = std::move(in_hand);
    return w == nullptr || finish_wave(*w);
  };
  // When the last batch came (for the linger: records flowing or not).
  auto last_batch = std::chrono::steady_clock::time_point{};
  while (running_) {
    auto batch = std::make_shared<Batch>();
    if (in_hand) {
      batch->records = consumer_.poll_batch(options_.max_batch, std::chrono::milliseconds(0));
    } else {
      const bool flowing = std::chrono::steady_clock::now() - last_batch < 2 * options_.linger;
      batch->records = consumer_.poll_batch(options_.max_batch, std::chrono::milliseconds(100),
                                            flowing ? options_.linger : std::chrono::milliseconds(0));
    }
    if (batch->records.empty()) {
      if (!finish_in_hand()) return;  // stopping: what is not stored comes back after a restart
      continue;
    }
    last_batch = std::chrono::steady_clock::now();
    records_polled_ += batch->records.size();
    if (batch_records_ != nullptr) batch_records_->observe(static_cast<double>(batch->records.size()));
    batch->done.resize(batch->records.size());
    std::vector<std::size_t> todo;
    todo.reserve(batch->records.size());
    for (std::size_t i = 0; i < batch->records.size(); ++i) {
      if (options_.ignore && options_.ignore(batch->records[i])) {
        batch->done[i] = true;
      } else {
        todo.push_back(i);
      }
    }
    auto waves = split_waves(batch->records, todo);
    if (waves.empty()) {
      // Only ignored records: their offsets move once every earlier wave is done.
      if (!finish_in_hand()) return;
      store_offsets(*batch);
    }
    for (auto& wave : waves) {
      if (in_hand) {
        // A key of this wave in the wave in hand: that one first (per-key order).
        std::unordered_set<std::string> keys;
        for (auto i : in_hand->wave) keys.insert(grouping_key(in_hand->batch->records[i]));
        const bool shared = std::any_of(wave.begin(), wave.end(), [&](std::size_t i) {
          return keys.contains(grouping_key(batch->records[i]));
        });
        if (shared && !finish_in_hand()) return;
      }
      auto started = start_wave(batch, std::move(wave));
      if (in_hand) ++overlapped_waves_;
      if (!finish_in_hand()) {
        abandon(*started);
        return;
      }
      if (started->finish || started->error) {
        in_hand = std::move(started);
      } else if (!finish_wave(*started)) {  // start() did all of it (a plain Handler)
        return;
      }
    }
    ++batches_;
  }
  finish_in_hand();  // stopping: the wave in hand is finished (or left for a restart)
}

void BatchConsumerLoop::open_spans(const std::vector<Record>& batch, const std::vector<std::size_t>& wave,
                                   std::vector<Delivery>& deliveries, std::vector<trace::Span>& spans) {
  deliveries.resize(wave.size());
  spans.resize(wave.size());
  for (std::size_t i = 0; i < wave.size(); ++i) {
    const Record& record = batch[wave[i]];
    auto [span, context] = detail::start_consumer_span(tracer_, record, consumer_.group_id());
    span.tag("messaging.batch.message_count", std::to_string(wave.size()));
    deliveries[i] = Delivery{&record, std::move(context)};
    spans[i] = std::move(span);
  }
}

std::unique_ptr<BatchConsumerLoop::InFlight> BatchConsumerLoop::start_wave(std::shared_ptr<Batch> batch,
                                                                           std::vector<std::size_t> wave) {
  auto w = std::make_unique<InFlight>();
  open_spans(batch->records, wave, w->deliveries, w->spans);
  w->batch = std::move(batch);
  w->wave = std::move(wave);
  try {
    w->finish = handler_.start(w->deliveries);
  } catch (const std::exception& e) {
    w->error = e.what();
  }
  return w;
}

void BatchConsumerLoop::abandon(InFlight& w) {
  // Stopping after an earlier wave could not finish: this one's calls are under way, so its
  // finisher runs (what it decides is found again on redelivery), but no offset moves.
  if (w.finish && !w.error) {
    try {
      w.finish();
    } catch (const std::exception& e) {
      w.error = e.what();
    }
  }
  for (auto& s : w.spans) {
    s.tag("error", w.error.value_or("stopping: not committed"));
    s.end();
  }
}

bool BatchConsumerLoop::finish_wave(InFlight& w) {
  std::optional<std::string> error = std::move(w.error);
  if (!error && w.finish) {
    try {
      w.finish();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  for (auto& s : w.spans) {
    if (error) s.tag("error", *error);
    s.end();
  }
  // A failed wave is handed again, start to finish, with new spans, until it succeeds.
  if (error && !handle_wave(w.batch->records, w.wave, std::move(error))) return false;
  for (auto i : w.wave) w.batch->done[i] = true;
  // After each wave, every partition's done prefix: a crash redelivers only from the first
  // record not yet decided.
  store_offsets(*w.batch);
  return true;
}

bool BatchConsumerLoop::handle_wave(const std::vector<Record>& batch, const std::vector<std::size_t>& wave,
                                    std::optional<std::string> failed) {
  auto backoff = std::chrono::milliseconds(100);
  FailureLog failures;
  std::vector<Delivery> deliveries(wave.size());
  std::vector<trace::Span> spans(wave.size());
  const auto log_failure = [&](const std::string& error) {
    // The first failure, then once per interval while it lasts (a full disk, a broker
    // down): the wave is retried every few seconds, and so is its error.
    if (!failures.failed()) return;
    const Record& first = batch[wave.front()];
    log::error("batch handling failed; will retry",
               {{"consumer", name_}, {"topic", first.topic}, {"records", std::to_string(wave.size())},
                {"firstKey", first.key}, {"error", error}, {"attempts", std::to_string(failures.attempts())},
                {"failingForS", failures.failing_for()}, {"traceId", deliveries.front().context.trace_id}});
  };
  if (failed) {
    ++failing_;
    log_failure(*failed);
    if (!wait_backoff(backoff)) {
      --failing_;
      return false;
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  for (;;) {
    open_spans(batch, wave, deliveries, spans);
    try {
      if (auto finish = handler_.start(deliveries)) finish();
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
      failed = e.what();
      for (auto& s : spans) {
        s.tag("error", e.what());
        s.end();
      }
      log_failure(e.what());
      if (!wait_backoff(backoff)) {
        --failing_;
        return false;
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

}  // namespace orderflow::kafka
