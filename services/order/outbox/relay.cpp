#include "services/order/outbox/relay.hpp"

#include <boost/asio/post.hpp>
#include <algorithm>
#include <latch>

#include "libs/observability/log.hpp"

namespace orderflow::order {
namespace {
constexpr int kBatch = 500;
// The safety net's interval: commits notify() the relay directly.
constexpr auto kSafetyNet = std::chrono::milliseconds(500);
}

OutboxRelay::OutboxRelay(OrderRepository& repo, kafka::Producer& producer, Probe& probe,
                         boost::asio::thread_pool& pool)
    : repo_(repo), producer_(producer), probe_(probe), pool_(pool), timer_(pool.get_executor()) {}

OutboxRelay::~OutboxRelay() { stop(); }

void OutboxRelay::start() {
  {
    std::lock_guard lock(mu_);
    if (started_ || stopping_) return;
    started_ = true;
    arm_timer_locked(kSafetyNet);
  }
  notify();
}

void OutboxRelay::arm_timer_locked(std::chrono::milliseconds after) {
  timer_.expires_after(after);  // a wait already armed ends as operation_aborted
  ++armed_;
  timer_.async_wait([this](const boost::system::error_code& ec) {
    // stop() waits for every armed wait's handler: `this` is alive here, and nothing below
    // touches it once the lock is released.
    std::unique_lock lock(mu_);
    --armed_;
    if (ec || stopping_) {
      round_over_.notify_all();
      return;
    }
    arm_timer_locked(kSafetyNet);
    auto& pool = pool_;
    if (start_round_locked()) {
      lock.unlock();
      boost::asio::post(pool, [this] { round(); });
    }
  });
}

bool OutboxRelay::start_round_locked() {
  if (stopping_ || !started_) return false;
  if (in_round_) {
    pending_ = true;  // the round looks again before it ends
    return false;
  }
  in_round_ = true;
  pending_ = false;
  return true;
}

void OutboxRelay::notify() {
  {
    std::lock_guard lock(mu_);
    if (!start_round_locked()) return;
  }
  boost::asio::post(pool_, [this] { round(); });
}

void OutboxRelay::round() {
  for (;;) {
    bool more = false;
    bool failed = false;
    try {
      more = publish_batch();
      backoff_ = std::chrono::milliseconds(100);
      if (failures_) {
        log::info("outbox relay recovered", {{"rounds", std::to_string(failures_->attempts() + 1)},
                                             {"failedForS", failures_->failing_for()}});
        failures_.reset();
      }
    } catch (const std::exception& e) {
      failed = true;
      if (!failures_) failures_.emplace();
      if (failures_->failed()) {
        log::error("outbox relay round failed; retrying",
                   {{"error", e.what()}, {"rounds", std::to_string(failures_->attempts())},
                    {"failingForS", failures_->failing_for()}});
      }
    }
    std::lock_guard lock(mu_);
    if (!stopping_ && !failed && (more || pending_)) {
      pending_ = false;
      continue;
    }
    if (failed && !stopping_) {
      // The next round after the back-off (the timer is re-armed for the safety net then).
      arm_timer_locked(backoff_);
      backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
    }
    in_round_ = false;
    round_over_.notify_all();
    return;
  }
}

void OutboxRelay::stop() {
  {
    std::unique_lock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    timer_.cancel();
    round_over_.wait(lock, [this] { return !in_round_ && armed_ == 0; });
    if (!started_) return;
  }
  // Last round so a clean shutdown leaves nothing behind that could go now.
  try {
    while (publish_batch()) {
    }
  } catch (const std::exception& e) {
    log::warn("outbox not drained at shutdown; it is published on next start", {{"error", e.what()}});
  }
}

// Returns true when the batch was full (more may be waiting).
bool OutboxRelay::publish_batch() {
  if (!published_not_removed_.empty()) {
    repo_.outbox_remove(published_not_removed_);
    published_not_removed_.clear();
  }
  auto batch = repo_.outbox_batch(kBatch);
  if (batch.empty()) {
    probe_.outbox_backlog(0);
    return false;
  }
  std::latch done(static_cast<std::ptrdiff_t>(batch.size()));
  std::vector<char> ok(batch.size(), 0);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    producer_.send(batch[i].record, [&, i](const orderflow::Status& s) {
      ok[i] = s.ok() ? 1 : 0;
      if (!s.ok()) log::warn("outbox publish failed", {{"orderId", batch[i].record.key}, {"error", s.error().message}});
      done.count_down();
    });
  }
  done.wait();
  std::vector<std::int64_t> delivered;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (ok[i]) delivered.push_back(batch[i].id);
  }
  try {
    repo_.outbox_remove(delivered);
  } catch (...) {
    published_not_removed_ = std::move(delivered);
    probe_.outbox_published(published_not_removed_.size());
    throw;
  }
  probe_.outbox_published(delivered.size());
  probe_.outbox_failed(batch.size() - delivered.size());
  if (delivered.size() != batch.size()) throw std::runtime_error("some outbox records were not delivered");
  probe_.outbox_backlog(batch.size() == kBatch ? repo_.outbox_size() : 0);
  return batch.size() == kBatch;
}

}  // namespace orderflow::order
