#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace orderflow::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count. Lock-free on the hot path: callers resolve the
// labelled series once (Family::with) and keep the reference.
class Counter final {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge final {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double d) {
    double cur = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
    }
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Fixed-bucket histogram of seconds. observe() is a few relaxed atomic adds.
class Histogram final {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double v);
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum;
    std::uint64_t count;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Default latency buckets: 0.5 ms .. 10 s.
const std::vector<double>& latency_buckets();

template <class Metric>
class Family final {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Metric>()> make)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The series for these label values (in label_names order). The reference stays valid
  // for the life of the family.
  Metric& with(const std::vector<std::string>& values) {
    std::lock_guard lock(mu_);
    auto& slot = series_[values];
    if (!slot) slot = make_();
    return *slot;
  }

  template <class Fn>
  void for_each(Fn&& fn) const {
    std::lock_guard lock(mu_);
    for (const auto& [values, metric] : series_) fn(values, *metric);
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

// Owns every metric family of one process and renders them in the Prometheus text
// exposition format 0.0.4.
class Registry final {
 public:
  // Registering a name that exists returns the existing family (same type and labels
  // expected), so independent components can share one.
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(std::string name, std::string help,
                               std::vector<std::string> labels = {},
                               std::vector<double> bounds = latency_buckets());
  // A gauge computed at scrape time (queue depths, backlog sizes).
  void callback_gauge(std::string name, std::string help, std::function<double()> fn);

  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::deque<Family<Counter>> counters_;
  std::deque<Family<Gauge>> gauges_;
  std::deque<Family<Histogram>> histograms_;
  struct Callback {
    std::string name, help;
    std::function<double()> fn;
  };
  std::vector<Callback> callbacks_;
};

}  // namespace orderflow::metrics
