#include "services/order/outbox/relay.hpp"

#include <latch>
#include <optional>

#include "libs/common/thread_name.hpp"
#include "libs/kafka/handle_record.hpp"
#include "libs/observability/log.hpp"

namespace orderflow::order {
namespace {
constexpr int kBatch = 500;
}

OutboxRelay::OutboxRelay(OrderRepository& repo, kafka::Producer& producer, Probe& probe)
    : repo_(repo), producer_(producer), probe_(probe) {}

OutboxRelay::~OutboxRelay() { stop(); }

void OutboxRelay::start() {
  running_ = true;
  thread_ = std::thread([this] {
    name_this_thread("outbox-relay");
    run();
  });
}

void OutboxRelay::stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    running_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::notify() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
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

void OutboxRelay::run() {
  auto backoff = std::chrono::milliseconds(100);
  std::optional<kafka::FailureLog> failures;  // while rounds fail (a broker down, a full disk)
  std::unique_lock lock(mu_);
  while (running_) {
    pending_ = false;
    lock.unlock();
    bool more = false;
    bool failed = false;
    try {
      more = publish_batch();
      backoff = std::chrono::milliseconds(100);
      if (failures) {
        log::info("outbox relay recovered", {{"rounds", std::to_string(failures->attempts() + 1)},
                                             {"failedForS", failures->failing_for()}});
        failures.reset();
      }
    } catch (const std::exception& e) {
      failed = true;
      if (!failures) failures.emplace();
      if (failures->failed()) {
        log::error("outbox relay round failed; retrying",
                   {{"error", e.what()}, {"rounds", std::to_string(failures->attempts())},
                    {"failingForS", failures->failing_for()}});
      }
    }
    lock.lock();
    if (more && !failed) continue;
    // The poll interval is a safety net only: commits notify() the relay directly.
    auto wait = failed ? backoff : std::chrono::milliseconds(500);
    if (failed) backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    cv_.wait_for(lock, wait, [this] { return pending_ || !running_; });
  }
  lock.unlock();
  // Last round so a clean shutdown leaves nothing behind that could go now.
  try {
    while (publish_batch()) {
    }
  } catch (const std::exception& e) {
    log::warn("outbox not drained at shutdown; it is published on next start", {{"error", e.what()}});
  }
}

}  // namespace orderflow::order
