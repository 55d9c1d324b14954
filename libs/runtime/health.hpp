#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "libs/common/result.hpp"

namespace orderflow::runtime {

// Runs each component's check on its own thread every `interval` and caches the results,
// so /actuator/health answers at once and never blocks an I/O thread on a slow dependency.
class HealthMonitor final {
 public:
  using Check = std::function<Status()>;
  explicit HealthMonitor(std::chrono::milliseconds interval = std::chrono::seconds(2));
  ~HealthMonitor();

  void add(std::string component, Check check);  // before start()
  // A component that is always UP but reports details (e.g. a circuit breaker's state);
  // evaluated when the report is built, so it must be cheap and thread-safe.
  void add_details(std::string component, std::function<boost::json::object()> details);
  void start();
  void stop();
  // Runs every check now (used at start so the first answer is real).
  void check_now();

  bool up() const;
  // {"status":"UP"|"DOWN","components":{name:{"status":..,"details":{"error":..}}}}
  boost::json::object report() const;

 private:
  void loop();

  std::chrono::milliseconds interval_;
  std::vector<std::pair<std::string, Check>> checks_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Status> results_;
  std::vector<std::pair<std::string, std::function<boost::json::object()>>> details_;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace orderflow::runtime
