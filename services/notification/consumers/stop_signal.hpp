#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace orderflow::notification::consumers {

// Lets waits on the consumer thread (retry back-off) end at once when the service stops.
class StopSignal final {
 public:
  // Waits `d`; false when stop() was called before or during the wait.
  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopped_; });
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool stopped() {
    std::lock_guard lock(mu_);
    return stopped_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace orderflow::notification::consumers
