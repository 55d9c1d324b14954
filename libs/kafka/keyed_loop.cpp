#include "libs/kafka/keyed_loop.hpp"

#include "libs/common/thread_name.hpp"
#include "libs/kafka/handle_record.hpp"

namespace orderflow::kafka {

void OffsetTracker::started(const std::string& topic, std::int32_t partition, std::int64_t offset) {
  auto [it, fresh] = partitions_.try_emplace({topic, partition});
  auto& p = it->second;
  // A partition's first record, or a rewind (a rebalance handed the partition back from its
  // committed offset): the group already has `offset` as its position, and the contiguous
  // run starts again here.
  if (fresh || offset <= p.last_polled) p.stored = offset;
  p.in_flight.insert(offset);
  p.last_polled = offset;
}

std::optional<std::int64_t> OffsetTracker::finished(const std::string& topic, std::int32_t partition,
                                                    std::int64_t offset) {
  auto it = partitions_.find({topic, partition});
  if (it == partitions_.end()) return std::nullopt;
  auto& p = it->second;
  if (auto f = p.in_flight.find(offset); f != p.in_flight.end()) p.in_flight.erase(f);
  // Below the last polled offset, only what is still in flight is not done: the consumer
  // delivers a partition in order from its committed offset.
  std::int64_t next = p.last_polled + 1;
  if (!p.in_flight.empty()) next = std::min(next, *p.in_flight.begin());
  if (next == p.stored) return std::nullopt;
  p.stored = next;
  return next;
}

std::size_t OffsetTracker::in_flight() const {
  std::size_t n = 0;
  for (const auto& [tp, p] : partitions_) n += p.in_flight.size();
  return n;
}

std::string KeyedQueue::key_of(const Record& record) {
  if (!record.key.empty()) return record.key;
  // Keyless records keep their partition's order. '\0' cannot start a real key here.
  return std::string(1, '\0') + record.topic + '/' + std::to_string(record.partition);
}

bool KeyedQueue::push(Record record) {
  auto key = key_of(record);
  auto [it, fresh] = by_key_.try_emplace(key);
  it->second.push_back(std::move(record));
  ++size_;
  if (fresh) ready_.push_back(std::move(key));
  return fresh;
}

const Record* KeyedQueue::take() {
  if (ready_.empty()) return nullptr;
  auto key = std::move(ready_.front());
  ready_.pop_front();
  // References to a deque's elements survive push_back, and to a map's values, rehashing.
  return &by_key_.at(key).front();
}

bool KeyedQueue::done(const std::string& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  it->second.pop_front();
  --size_;
  if (it->second.empty()) {
    by_key_.erase(it);
    return false;
  }
  ready_.push_back(key);
  return true;
}

KeyedConsumerLoop::Options KeyedConsumerLoop::Options::from(const Settings& settings, std::size_t default_workers) {
  Options o;
  o.workers = static_cast<std::size_t>(
      settings.integer("consumer-workers", static_cast<std::int64_t>(default_workers), 1, 4096));
  o.max_in_flight = static_cast<std::size_t>(settings.integer("consumer-max-in-flight", 0, 0, 1'000'000));
  return o;
}

KeyedConsumerLoop::KeyedConsumerLoop(Consumer& consumer, Handler handler, std::string name, Options options,
                                     trace::Tracer* tracer)
    : consumer_(consumer), handler_(std::move(handler)), name_(std::move(name)), options_(options), tracer_(tracer) {
  if (options_.workers == 0) options_.workers = 1;
  if (options_.max_in_flight == 0) options_.max_in_flight = 4 * options_.workers;
}

KeyedConsumerLoop::~KeyedConsumerLoop() { stop(); }

void KeyedConsumerLoop::start() {
  running_ = true;
  for (std::size_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] {
      name_this_thread("consume-worker");
      work();
    });
  poller_ = std::thread([this] {
    name_this_thread("consume-poll");
    poll_loop();
  });
}

void KeyedConsumerLoop::stop() {
  {
    std::lock_guard lock(mu_);
    running_ = false;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  stop_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  workers_.clear();
  consumer_.close();
}

std::size_t KeyedConsumerLoop::in_flight() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

bool KeyedConsumerLoop::wait_backoff(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, d, [this] { return !running_.load(); });
}

void KeyedConsumerLoop::poll_loop() {
  while (running_) {
    {
      std::unique_lock lock(mu_);
      space_cv_.wait(lock, [this] { return !running_ || queue_.size() < options_.max_in_flight; });
      if (!running_) return;
    }
    auto record = consumer_.poll(std::chrono::milliseconds(100));
    if (!record) continue;
    bool ready = false;
    {
      std::lock_guard lock(mu_);
      offsets_.started(record->topic, record->partition, record->offset);
      if (options_.ignore && options_.ignore(*record)) {
        if (auto next = offsets_.finished(record->topic, record->partition, record->offset)) {
          consumer_.store_offset(record->topic, record->partition, *next);
        }
        continue;
      }
      ready = queue_.push(std::move(*record));
    }
    if (ready) work_cv_.notify_one();
  }
}

void KeyedConsumerLoop::work() {
  const auto wait = [this](std::chrono::milliseconds d) { return wait_backoff(d); };
  for (;;) {
    const Record* record = nullptr;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [this] { return !running_ || queue_.has_ready(); });
      if (!running_) return;
      record = queue_.take();
    }
    // Stopping mid-record: it is not marked done, so it is redelivered after the restart.
    if (!detail::handle_until_done(*record, handler_, name_, consumer_.group_id(), tracer_, failing_, wait)) return;
    bool ready = false;
    {
      std::lock_guard lock(mu_);
      if (auto next = offsets_.finished(record->topic, record->partition, record->offset)) {
        consumer_.store_offset(record->topic, record->partition, *next);
      }
      ready = queue_.done(KeyedQueue::key_of(*record));  // `record` is gone after this
    }
    if (ready) work_cv_.notify_one();
    space_cv_.notify_one();
  }
}

}  // namespace orderflow::kafka
