#pragma once

#include <string>

#include "libs/observability/metrics.hpp"

namespace orderflow::alerting {

// alerting-service's metrics, in one place.
class Probe final {
 public:
  explicit Probe(metrics::Registry& registry);

  // A new DLQ record was turned into an alert (redeliveries are not counted).
  void raised(const std::string& topic, const std::string& reason) {
    raised_.with({topic, reason}).inc();
  }
  void email_sent() { emails_.inc(); }
  void email_failed() { email_failures_.inc(); }
  // result: ok | failed
  void webhook(const std::string& result) { webhooks_.with({result}).inc(); }

 private:
  metrics::Family<metrics::Counter>& raised_;
  metrics::Counter& emails_;
  metrics::Counter& email_failures_;
  metrics::Family<metrics::Counter>& webhooks_;
};

}  // namespace orderflow::alerting
