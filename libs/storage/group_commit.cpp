#include "libs/storage/group_commit.hpp"

#include <algorithm>
#include <stdexcept>

#include "libs/common/thread_name.hpp"

namespace orderflow::storage {

GroupCommitter::GroupCommitter(Database& db, std::size_t max_batch, std::chrono::microseconds linger)
    : db_(db), max_batch_(max_batch == 0 ? 1 : max_batch), linger_(linger) {}

GroupCommitter::~GroupCommitter() { stop(); }

void GroupCommitter::stop() {
  std::lock_guard stop_lock(stop_mu_);
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (committer_.joinable()) committer_.join();  // the committer drains the queue first
}

std::size_t GroupCommitter::queued() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

bool GroupCommitter::stopping() const {
  std::lock_guard lock(queue_mu_);
  return stopping_;
}

namespace {
const char* const kStopping = "the group committer is stopping: nothing was written";
}  // namespace

void GroupCommitter::push_locked(const std::shared_ptr<Item>& item) {
  queue_.push_back(item);
  wake_committer_locked();
}

void GroupCommitter::wake_committer_locked() {
  // The committer thread starts with the first work that has to queue: a committer whose
  // callers never overlap (one consumer thread calling run_all) commits everything on the
  // callers' threads and never costs a thread. Never after stop(): every path here checked
  // stopping_ under queue_mu_, so stop() reads committer_ with no writer left.
  if (!committer_.joinable()) {
    committer_ = std::thread([this] {
      name_this_thread("group-commit");
      commit_loop();
    });
  }
  // A committer holding a batch open is woken only when the batch is full (or stopping):
  // the works of a linger cost no wake-up each.
  if (lingering_ && queue_.size() < max_batch_ && !stopping_) return;
  // Under the lock: once the committer can see the item, this thread no longer touches
  // the committer (which may be destroyed as soon as the item is answered).
  queue_cv_.notify_one();
}

bool GroupCommitter::enqueue(const std::shared_ptr<Item>& item) {
  std::lock_guard lock(queue_mu_);
  if (stopping_) return false;
  push_locked(item);
  return true;
}

void GroupCommitter::submit_and_wait(const std::shared_ptr<Item>& item) {
  {
    std::unique_lock lock(queue_mu_);
    if (stopping_) throw std::runtime_error(kStopping);
    if (busy_ || !queue_.empty()) {
      push_locked(item);
    } else {
      // Nothing queued, no batch in progress: commit this work here, on the caller's thread,
      // instead of waking the committer and waiting to be woken (two thread switches per
      // commit under light load). Works that arrive meanwhile queue for the committer.
      busy_ = true;
      lock.unlock();
      commit_batch({item});
      lock.lock();
      busy_ = false;
      queue_cv_.notify_one();  // under the lock, as in push_locked()
    }
  }
  item->answered.acquire();
  if (item->error) std::rethrow_exception(item->error);
}

std::vector<std::exception_ptr> GroupCommitter::run_all(std::vector<std::function<void(Database&)>> works,
                                                       Durability durability) {
  std::vector<std::shared_ptr<Item>> items;
  items.reserve(works.size());
  for (auto& w : works) {
    auto item = std::make_shared<Item>();
    item->owned_work = std::move(w);
    item->durability = durability;
    items.push_back(std::move(item));
  }
  {
    std::unique_lock lock(queue_mu_);
    if (stopping_) throw std::runtime_error(kStopping);
    if (busy_ || !queue_.empty()) {
      for (const auto& item : items) queue_.push_back(item);
      wake_committer_locked();
    } else {
      // Idle: commit here, as run() does, in chunks of max_batch.
      busy_ = true;
      lock.unlock();
      for (std::size_t i = 0; i < items.size(); i += max_batch_) {
        const auto end = std::min(items.size(), i + max_batch_);
        commit_batch({items.begin() + static_cast<std::ptrdiff_t>(i), items.begin() + static_cast<std::ptrdiff_t>(end)});
      }
      lock.lock();
      busy_ = false;
      queue_cv_.notify_one();
    }
  }
  std::vector<std::exception_ptr> errors;
  errors.reserve(items.size());
  for (const auto& item : items) {
    item->answered.acquire();
    errors.push_back(item->error);
  }
  return errors;
}

void GroupCommitter::submit(std::function<void(Database&)> work, std::function<void(std::exception_ptr)> done) {
  auto item = std::make_shared<Item>();
  item->owned_work = std::move(work);
  item->done = std::move(done);
  if (!enqueue(item)) item->done(std::make_exception_ptr(std::runtime_error(kStopping)));
}

void GroupCommitter::commit_loop() {
  std::vector<std::shared_ptr<Item>> batch;
  std::unique_lock lock(queue_mu_);
  for (;;) {
    queue_cv_.wait(lock, [this] { return !busy_ && (stopping_ || !queue_.empty()); });
    if (queue_.empty()) return;  // stopping, and nothing left to answer
    if (linger_.count() > 0 && !stopping_ && queue_.size() < max_batch_ &&
        std::chrono::steady_clock::now() - last_commit_ < 2 * linger_) {
      // Works are flowing: hold the batch open for more (busy_ stays false, but run() sees
      // a non-empty queue and queues behind it).
      lingering_ = true;
      queue_cv_.wait_for(lock, linger_, [this] { return stopping_ || queue_.size() >= max_batch_; });
      lingering_ = false;
    }
    batch.clear();
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    busy_ = true;
    lock.unlock();
    commit_batch(batch);
    last_commit_ = std::chrono::steady_clock::now();
    lock.lock();
    busy_ = false;
  }
}

void GroupCommitter::commit_batch(const std::vector<std::shared_ptr<Item>>& batch) {
  std::exception_ptr batch_error;
  std::uint64_t committed = 0;
  try {
    auto durability = Durability::kDeferred;
    for (const auto& item : batch) {
      if (item->durability == Durability::kDurable) durability = Durability::kDurable;
    }
    auto lock = db_.lock();
    Transaction tx(db_, durability);
    for (const auto& item : batch) {
      // Prepared statements, not exec(): kept prepared by both backends, so no parse per item.
      db_.prepare("SAVEPOINT group_commit_item").run();
      try {
        if (item->owned_work) item->owned_work(db_);
        else item->call(item->work, db_);
      } catch (...) {
        item->error = std::current_exception();
      }
      // Outside the catch: a failing ROLLBACK TO ends the batch (the connection is gone).
      if (item->error) db_.prepare("ROLLBACK TO group_commit_item").run();
      else ++committed;
      db_.prepare("RELEASE group_commit_item").run();
    }
    tx.commit();
    ++batches_committed_;
    items_committed_ += committed;
  } catch (...) {
    batch_error = std::current_exception();  // nothing of this batch is stored
  }
  for (const auto& item : batch) {
    if (batch_error) item->error = batch_error;
    if (item->done) {
      try {
        item->done(item->error);
      } catch (...) {  // NOLINT(bugprone-empty-catch): one caller's callback must not stop the others'
      }
    } else {
      item->answered.release();  // the caller may return from here on (`work` is gone then)
    }
  }
}

}  // namespace orderflow::storage
