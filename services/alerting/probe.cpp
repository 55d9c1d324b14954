#include "services/alerting/probe.hpp"

namespace orderflow::alerting {

Probe::Probe(metrics::Registry& registry)
    : raised_(registry.counter("alerts_raised_total",
                               "DLQ records alerted on, by DLQ topic and reason",
                               {"topic", "reason"})),
      emails_(
          registry
              .counter("alert_emails_total", "Alert emails sent (one per topic, reason and window)")
              .with({})),
      email_failures_(
          registry.counter("alert_email_failures_total", "Alert emails that could not be sent")
              .with({})),
      webhooks_(registry.counter("alert_webhooks_total",
                                 "Alert webhook calls, by result (ok, failed)", {"result"})) {}

}  // namespace orderflow::alerting
