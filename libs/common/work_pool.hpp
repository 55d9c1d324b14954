#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace orderflow {

// A few threads that share the work of a loop with its caller: for_each(n, fn) runs fn(0 ..
// n-1) across the caller and the pool's threads, in contiguous chunks (each index once),
// and returns when all are done, rethrowing the first exception. With n <= 1 or no threads
// it all runs on the caller's thread, with no hand-off. For the parts of a batch that wait
// (an SMTP transfer, a gateway call that needs retries), so that a batch is not as slow as
// the sum of its waits — and without a thread per record.
//
// The threads start with the first for_each() that has work for them: a pool for a rare
// path (payment-service's retries) costs no thread while that path is not taken.
class WorkPool final {
 public:
  WorkPool(std::size_t threads, std::string name);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void for_each(std::size_t n, const std::function<void(std::size_t)>& fn);
  // The threads the pool runs once started (for_each's parallelism is this + 1).
  std::size_t threads() const { return size_; }
  // Threads started so far: 0 until the first for_each() that shares work.
  std::size_t started() const;

 private:
  void work();
  void start_locked();

  const std::size_t size_;
  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace orderflow
