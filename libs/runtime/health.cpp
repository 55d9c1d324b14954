#include "libs/runtime/health.hpp"

#include "libs/common/thread_name.hpp"

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

void HealthMonitor::start() {
  {
    std::lock_guard lock(mu_);
    running_ = true;
  }
  thread_ = std::thread([this] {
    name_this_thread("health");
    loop();
  });
}

void HealthMonitor::stop() {
  {
    std::lock_guard lock(mu_);
    running_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
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

void HealthMonitor::loop() {
  std::unique_lock lock(mu_);
  while (running_) {
    lock.unlock();
    check_now();
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return !running_; });
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
