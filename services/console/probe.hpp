#pragma once

#include <string>

#include "libs/observability/metrics.hpp"

namespace orderflow::console {

// The console's metrics, in one place.
class Probe final {
 public:
  explicit Probe(metrics::Registry& registry)
      : indexed_(registry.counter("console_events_indexed_total", "Kafka records added to the order index, by topic",
                                  {"topic"})),
        sign_ins_(registry.counter("console_sign_ins_total", "Sign-in attempts, by result (ok, refused, demo)",
                                   {"result"})) {}

  void indexed(const std::string& topic, std::size_t n) { indexed_.with({topic}).inc(n); }
  void sign_in(const std::string& result) { sign_ins_.with({result}).inc(); }

 private:
  metrics::Family<metrics::Counter>& indexed_;
  metrics::Family<metrics::Counter>& sign_ins_;
};

}  // namespace orderflow::console
