#include "libs/observability/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace orderflow::metrics {
namespace {

void add_double(std::atomic<double>& a, double d) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

std::string format_double(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!out.empty()) out += ',';
    out += names[i] + "=\"" + escape_label(values[i]) + '"';
  }
  if (!extra.empty()) {
    if (!out.empty()) out += ',';
    out += extra;
  }
  return out.empty() ? "" : "{" + out + "}";
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

// A name may be registered more than once (e.g. by every Kafka client of a process): the
// first registration wins, so each family is rendered once with one HELP/TYPE.
template <class Metric>
Family<Metric>* find_family(std::deque<Family<Metric>>& families, const std::string& name) {
  for (auto& f : families) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

}  // namespace

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::observe(double v) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  add_double(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  s.count = running;
  return s;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  return kBuckets;
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  if (auto* f = find_family(counters_, name)) return *f;
  return counters_.emplace_back(std::move(name), std::move(help), std::move(labels),
                                [] { return std::make_unique<Counter>(); });
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  if (auto* f = find_family(gauges_, name)) return *f;
  return gauges_.emplace_back(std::move(name), std::move(help), std::move(labels),
                              [] { return std::make_unique<Gauge>(); });
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> labels, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  if (auto* f = find_family(histograms_, name)) return *f;
  return histograms_.emplace_back(std::move(name), std::move(help), std::move(labels),
                                  [bounds] { return std::make_unique<Histogram>(bounds); });
}

void Registry::callback_gauge(std::string name, std::string help, std::function<double()> fn) {
  std::lock_guard lock(mu_);
  callbacks_.push_back({std::move(name), std::move(help), std::move(fn)});
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& f : counters_) {
    header(out, f.name(), f.help(), "counter");
    f.for_each([&](const auto& values, const Counter& c) {
      out += f.name() + label_set(f.label_names(), values) + " " + std::to_string(c.value()) + "\n";
    });
  }
  for (const auto& f : gauges_) {
    header(out, f.name(), f.help(), "gauge");
    f.for_each([&](const auto& values, const Gauge& g) {
      out += f.name() + label_set(f.label_names(), values) + " " + format_double(g.value()) + "\n";
    });
  }
  for (const auto& c : callbacks_) {
    header(out, c.name, c.help, "gauge");
    out += c.name + " " + format_double(c.fn()) + "\n";
  }
  for (const auto& f : histograms_) {
    header(out, f.name(), f.help(), "histogram");
    f.for_each([&](const auto& values, const Histogram& h) {
      auto s = h.snapshot();
      for (std::size_t i = 0; i < s.cumulative.size(); ++i) {
        std::string le = i < h.bounds().size() ? format_double(h.bounds()[i]) : "+Inf";
        out += f.name() + "_bucket" + label_set(f.label_names(), values, "le=\"" + le + "\"") + " " +
               std::to_string(s.cumulative[i]) + "\n";
      }
      out += f.name() + "_sum" + label_set(f.label_names(), values) + " " + format_double(s.sum) + "\n";
      out += f.name() + "_count" + label_set(f.label_names(), values) + " " + std::to_string(s.count) + "\n";
    });
  }
  return out;
}

}  // namespace orderflow::metrics
