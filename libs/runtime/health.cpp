#include "libs/runtime/health.hpp"

#include <boost/asio/post.hpp>

namespace orderflow::runtime {

HealthMonitor::HealthMonitor(std::chrono::milliseconds interval) : interval_(interval) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::add(std::string component, Check check) {
  std::lock_guard lock(mu_);
  results_.emplace(component, Error{"not-checked", "not checked yet", true});
  checks_.emplace_back(std::move(component), std::move(check));
}

void HealthMonitor::add_details(std::string component, std::function<boost::json::object()> details) {
  std::lock_guard lock(mu_);
  details_.emplace_back(std::move(component), std::move(details));
}

void HealthMonitor::start(boost::asio::io_context& io, boost::asio::thread_pool& pool) {
  pool_ = &pool;
  timer_ = std::make_unique<boost::asio::steady_timer>(io);
  running_ = true;
  boost::asio::post(io, [this] { schedule(); });
}

void HealthMonitor::stop() {
  // A round in hand finishes (the pool is joined before the monitor goes); none starts.
  if (!running_.exchange(false) || !timer_) return;
  boost::asio::post(timer_->get_executor(), [this] { timer_->cancel(); });
}

void HealthMonitor::schedule() {
  if (!running_) return;
  timer_->expires_after(interval_);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running_) return;
    boost::asio::post(*pool_, [this] {
      check_now();
      boost::asio::post(timer_->get_executor(), [this] { schedule(); });
    });
  });
}

void HealthMonitor::check_now() {
  for (const auto& [name, check] : checks_) {
    Status s = Error{"check-failed", "check threw", true};
    try {
      s = check();
    } catch (const std::exception& e) {
      s = Error{"check-failed", e.what(), true};
    }
    std::lock_guard lock(mu_);
    results_.insert_or_assign(name, std::move(s));
  }
}

bool HealthMonitor::up() const {
  std::lock_guard lock(mu_);
  for (const auto& [name, s] : results_) {
    if (!s.ok()) return false;
  }
  return true;
}

boost::json::object HealthMonitor::report() const {
  std::lock_guard lock(mu_);
  boost::json::object components;
  bool all_up = true;
  for (const auto& [name, s] : results_) {
    boost::json::object c{{"status", s.ok() ? "UP" : "DOWN"}};
    if (!s.ok()) {
      all_up = false;
      c["details"] = boost::json::object{{"error", s.error().message}, {"code", s.error().code}};
    }
    components[name] = std::move(c);
  }
  for (const auto& [name, fn] : details_) components[name] = {{"status", "UP"}, {"details", fn()}};
  return {{"status", all_up ? "UP" : "DOWN"}, {"components", std::move(components)}};
}

}  // namespace orderflow::runtime
