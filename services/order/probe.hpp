#pragma once

#include "libs/observability/metrics.hpp"

namespace orderflow::order {

// Every metric order-service exposes beyond the HTTP server's own.
class Probe final {
 public:
  explicit Probe(metrics::Registry& r)
      : orders_(r.counter("orders_total", "Orders by the status they entered", {"status"})),
        outbox_pending_(r.gauge("outbox_pending", "Events committed to the outbox and not yet acknowledged by Kafka")
                            .with({})),
        outbox_published_(r.counter("outbox_published_total", "Outbox events acknowledged by Kafka").with({})),
        outbox_failed_(r.counter("outbox_publish_failures_total", "Outbox publish attempts that failed").with({})),
        payment_events_(r.counter("payment_events_consumed_total", "Payment events by what they did", {"result"})) {}

  void order_entered(std::string_view status) { orders_.with({std::string(status)}).inc(); }
  void outbox_backlog(std::int64_t n) { outbox_pending_.set(static_cast<double>(n)); }
  void outbox_published(std::size_t n) { outbox_published_.inc(n); }
  void outbox_failed(std::size_t n) { outbox_failed_.inc(n); }
  void payment_event(std::string_view result) { payment_events_.with({std::string(result)}).inc(); }

 private:
  metrics::Family<metrics::Counter>& orders_;
  metrics::Gauge& outbox_pending_;
  metrics::Counter& outbox_published_;
  metrics::Counter& outbox_failed_;
  metrics::Family<metrics::Counter>& payment_events_;
};

}  // namespace orderflow::order
