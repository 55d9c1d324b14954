#include "libs/common/work_pool.hpp"

#include <algorithm>
#include <latch>
#include <utility>

#include "libs/common/thread_name.hpp"

namespace orderflow {

WorkPool::WorkPool(std::size_t threads, std::string name) : size_(threads), name_(std::move(name)) {}

void WorkPool::start_locked() {
  if (!threads_.empty() || stopping_) return;
  for (std::size_t i = 0; i < size_; ++i) {
    threads_.emplace_back([this] {
      name_this_thread(name_);
      work();
    });
  }
}

std::size_t WorkPool::started() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

WorkPool::~WorkPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkPool::work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void WorkPool::for_each(std::size_t n, const std::function<void(std::size_t)>& fn) {
  const std::size_t chunks = std::min(n, size_ + 1);
  if (chunks <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::vector<std::exception_ptr> errors(chunks);
  const auto run_chunk = [&](std::size_t c) {
    try {
      for (std::size_t i = c * n / chunks; i < (c + 1) * n / chunks; ++i) fn(i);
    } catch (...) {
      errors[c] = std::current_exception();
    }
  };
  std::latch done(static_cast<std::ptrdiff_t>(chunks - 1));
  {
    std::lock_guard lock(mu_);
    start_locked();
    for (std::size_t c = 1; c < chunks; ++c) {
      tasks_.emplace_back([&, c] {
        run_chunk(c);
        done.count_down();
      });
    }
  }
  cv_.notify_all();
  run_chunk(0);
  done.wait();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace orderflow
