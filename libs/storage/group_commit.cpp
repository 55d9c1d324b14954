#include "libs/storage/group_commit.hpp"

#include <stdexcept>

namespace orderflow::storage {

GroupCommitter::GroupCommitter(Database& db, std::size_t max_batch)
    : db_(db), max_batch_(max_batch == 0 ? 1 : max_batch) {
  committer_ = std::thread([this] { commit_loop(); });
}

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

void GroupCommitter::submit_and_wait(const std::shared_ptr<Item>& item) {
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) throw std::runtime_error("the group committer is stopping: nothing was written");
    queue_.push_back(item);
    // Under the lock: once the committer can see the item, this thread no longer touches
    // the committer (which may be destroyed as soon as the item is answered).
    queue_cv_.notify_one();
  }
  item->answered.acquire();
  if (item->error) std::rethrow_exception(item->error);
}

void GroupCommitter::commit_loop() {
  std::vector<std::shared_ptr<Item>> batch;
  std::unique_lock lock(queue_mu_);
  for (;;) {
    queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to answer
    batch.clear();
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    commit_batch(batch);
    lock.lock();
  }
}

void GroupCommitter::commit_batch(const std::vector<std::shared_ptr<Item>>& batch) {
  std::exception_ptr batch_error;
  std::uint64_t committed = 0;
  try {
    auto lock = db_.lock();
    Transaction tx(db_);
    for (const auto& item : batch) {
      db_.exec("SAVEPOINT group_commit_item");
      try {
        item->call(item->work, db_);
      } catch (...) {
        item->error = std::current_exception();
      }
      // Outside the catch: a failing ROLLBACK TO ends the batch (the connection is gone).
      if (item->error) db_.exec("ROLLBACK TO group_commit_item");
      else ++committed;
      db_.exec("RELEASE group_commit_item");
    }
    tx.commit();
    ++batches_committed_;
    items_committed_ += committed;
  } catch (...) {
    batch_error = std::current_exception();  // nothing of this batch is stored
  }
  for (const auto& item : batch) {
    if (batch_error) item->error = batch_error;
    item->answered.release();  // the caller may return from here on (`work` is gone then)
  }
}

}  // namespace orderflow::storage
