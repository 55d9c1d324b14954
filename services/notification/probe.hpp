#pragma once

#include <string>

#include "libs/observability/metrics.hpp"

namespace orderflow::notification {

// notification-service's metrics, in one place.
class Probe final {
 public:
  explicit Probe(metrics::Registry& registry);

  // An email went out: outcome CONFIRMED|FAILED, channel smtp|file.
  void sent(const std::string& outcome, const std::string& channel) {
    sent_.with({outcome, channel}).inc();
  }
  // One failed send attempt (retried or not), by error code.
  void send_failed(const std::string& code) { send_failures_.with({code}).inc(); }
  // An event that needed no email: not-an-outcome, redelivered, duplicate.
  void skipped(const std::string& why) { skipped_.with({why}).inc(); }
  void dlq(const std::string& topic, const std::string& reason) {
    dlq_.with({topic, reason}).inc();
  }

 private:
  metrics::Family<metrics::Counter>& sent_;
  metrics::Family<metrics::Counter>& send_failures_;
  metrics::Family<metrics::Counter>& skipped_;
  metrics::Family<metrics::Counter>& dlq_;
};

}  // namespace orderflow::notification
