#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "libs/common/result.hpp"

namespace orderflow::runtime {

// Runs each component's check every `interval` and caches the results, so /actuator/health
// answers at once and never blocks an I/O thread on a slow dependency. No thread of its
// own: a timer on the service's io_context starts each round on the blocking pool (a check
// may wait, e.g. for a broker that does not answer), and the next round is timed from the
// end of the last one, so rounds never overlap.
class HealthMonitor final {
 public:
  using Check = std::function<Status()>;
  explicit HealthMonitor(std::chrono::milliseconds interval = std::chrono::seconds(2));
  ~HealthMonitor();

  void add(std::string component, Check check);  // before start()
  // A component that is always UP but reports details (e.g. a circuit breaker's state);
  // evaluated when the report is built, so it must be cheap and thread-safe.
  void add_details(std::string component, std::function<boost::json::object()> details);
  // From now on every `interval`, until stop() or until `io` stops running. `io` and `pool`
  // must outlive the monitor's last round (Runtime joins the pool before it goes).
  void start(boost::asio::io_context& io, boost::asio::thread_pool& pool);
  void stop();
  // Runs every check now (used at start so the first answer is real).
  void check_now();

  bool up() const;
  // {"status":"UP"|"DOWN","components":{name:{"status":..,"details":{"error":..}}}}
  boost::json::object report() const;

 private:
  void schedule();

  std::chrono::milliseconds interval_;
  std::vector<std::pair<std::string, Check>> checks_;
  mutable std::mutex mu_;
  std::map<std::string, Status> results_;
  std::vector<std::pair<std::string, std::function<boost::json::object()>>> details_;
  std::atomic<bool> running_{false};
  boost::asio::thread_pool* pool_ = nullptr;
  std::unique_ptr<boost::asio::steady_timer> timer_;  // used on the io_context only
};

}  // namespace orderflow::runtime
