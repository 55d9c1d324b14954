#include "services/notification/probe.hpp"

namespace orderflow::notification {

Probe::Probe(metrics::Registry& registry)
    : sent_(registry.counter("notifications_sent_total",
                             "Customer emails sent, by order outcome and channel",
                             {"outcome", "channel"})),
      send_failures_(registry.counter(
          "notification_send_failures_total",
          "Failed email send attempts (each retry counts), by error code", {"code"})),
      skipped_(registry.counter("notification_events_skipped_total",
                                "Consumed events that caused no email, by why", {"reason"})),
      dlq_(registry.counter("dlq_messages_total",
                            "Records sent to a dead letter topic, by topic and reason",
                            {"topic", "reason"})) {}

}  // namespace orderflow::notification
