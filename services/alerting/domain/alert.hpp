#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// DLQ alerts: what one dead-lettered record says, how bursts are grouped, and what the
// email and the webhook say. Pure logic: no Kafka, HTTP or SQL here; the clock is a
// parameter (epoch milliseconds).
namespace orderflow::alerting::domain {

// One record of a "*.dlq" topic, read from its key and dlq-* / ce_* headers.
struct DlqEntry final {
  std::string topic;  // the DLQ topic
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::string reason;    // dlq-reason ("unknown" when missing)
  std::string order_id;  // the record key
  std::string error_message;
  std::string correlation_id;  // ce_correlationid
  std::string event_type;      // ce_type of the original event
  std::string original_topic;
  std::int64_t original_partition = -1;
  std::int64_t original_offset = -1;
  std::string consumer_group;
  std::int64_t attempts = 0;
  std::string first_failure_time, last_failure_time;
};

// All alerts of one (DLQ topic, reason) within one window [window_start, window_start + window).
struct Group final {
  std::int64_t id = 0;
  std::string topic, reason;
  std::int64_t window_start_ms = 0;
  std::int64_t count = 0;
  bool emailed = false;
  std::int64_t email_attempt_ms = 0;  // 0: never tried
  std::string webhook = "pending";    // pending | ok | failed
  std::int64_t webhook_attempt_ms = 0;
};

// Counting one new alert: into the latest group of its (topic, reason) while its window
// is open, else into a new group whose window starts now.
struct Admission final {
  bool new_window = false;
  Group group;  // count already includes the new alert; id 0 when new_window
};
Admission admit(const std::optional<Group>& latest, std::string_view topic, std::string_view reason,
                std::int64_t now_ms, std::chrono::milliseconds window);

// Which messages to send for a group now. The first record of a window sends both; when
// one failed, a later record of the same window tries it again, at most once per
// `retry_interval`, so an SMTP or webhook outage never costs a try per DLQ record.
struct Plan final {
  bool email = false;
  bool webhook = false;
};
Plan plan(const Group& group, std::int64_t now_ms, std::chrono::milliseconds retry_interval,
          bool webhook_configured);

// Where a reader of the alert can look further.
struct Links final {
  std::string alerting_url = "http://localhost:8083";
  std::string kafka_bootstrap = "localhost:9092";
};

struct AlertMessage final {
  std::string subject;  // "[orderflow] DLQ alert: payment-service.dlq gateway-unavailable"
  std::string body;
};
AlertMessage compose(const DlqEntry& entry, const Group& group, std::chrono::milliseconds window,
                     const Links& links);

// The webhook's JSON body, in the shape of ServiceNow's incident Table API
// (POST /api/now/table/incident): short_description, description, urgency, impact,
// correlation_id, category.
boost::json::object webhook_body(const DlqEntry& entry, const Group& group,
                                 const AlertMessage& message);

}  // namespace orderflow::alerting::domain
