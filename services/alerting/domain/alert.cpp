#include "services/alerting/domain/alert.hpp"

#include <cctype>

#include "libs/common/time.hpp"

namespace orderflow::alerting::domain {
namespace {

// ServiceNow field sizes: short_description 160, correlation_id 100.
constexpr std::size_t kShortDescriptionMax = 160;
constexpr std::size_t kCorrelationIdMax = 100;

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Single-quoted for a POSIX shell.
std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out.push_back(c);
  }
  return out + "'";
}

}  // namespace

Admission admit(const std::optional<Group>& latest, std::string_view topic, std::string_view reason,
                std::int64_t now_ms, std::chrono::milliseconds window) {
  if (latest && now_ms >= latest->window_start_ms &&
      now_ms < latest->window_start_ms + window.count()) {
    Admission a{false, *latest};
    ++a.group.count;
    return a;
  }
  // No group yet, its window has passed, or the clock went backwards (then a new window is
  // the safe side: one extra message rather than a silent alert).
  Group g;
  g.topic = std::string(topic);
  g.reason = std::string(reason);
  g.window_start_ms = now_ms;
  g.count = 1;
  return Admission{true, std::move(g)};
}

Plan plan(const Group& group, std::int64_t now_ms, std::chrono::milliseconds retry_interval,
          bool webhook_configured) {
  auto due = [&](std::int64_t last_attempt_ms) {
    return last_attempt_ms == 0 || now_ms - last_attempt_ms >= retry_interval.count();
  };
  Plan p;
  p.email = !group.emailed && due(group.email_attempt_ms);
  p.webhook = webhook_configured && group.webhook != "ok" && due(group.webhook_attempt_ms);
  return p;
}

AlertMessage compose(const DlqEntry& e, const Group& group, std::chrono::milliseconds window,
                     const Links& links) {
  AlertMessage m;
  m.subject = "[orderflow] DLQ alert: " + e.topic + " " + e.reason;
  std::string b;
  b +=
      "A record could not be processed and was moved to the dead letter topic " + e.topic + ".\n\n";
  b += "Reason:          " + e.reason + "\n";
  b += "Order id:        " + or_dash(e.order_id) + "\n";
  b += "Error:           " + or_dash(e.error_message) + "\n";
  b += "Correlation id:  " + or_dash(e.correlation_id) + "\n";
  if (!e.event_type.empty()) b += "Event type:      " + e.event_type + "\n";
  if (!e.original_topic.empty()) {
    b += "Original record: " + e.original_topic + ", partition " +
         std::to_string(e.original_partition) + ", offset " + std::to_string(e.original_offset) +
         "\n";
  }
  if (!e.consumer_group.empty()) b += "Consumer group:  " + e.consumer_group + "\n";
  if (e.attempts > 0) {
    b += "Attempts:        " + std::to_string(e.attempts);
    if (!e.first_failure_time.empty())
      b += " (first failure " + e.first_failure_time + ", last " + e.last_failure_time + ")";
    b += "\n";
  }
  b += "DLQ record:      " + e.topic + ", partition " + std::to_string(e.partition) + ", offset " +
       std::to_string(e.offset) + "\n\n";

  const auto seconds = window.count() / 1000;
  b += "Alerts are grouped: this message opens a " + std::to_string(seconds) + " s window for " +
       e.topic + " / " + e.reason + " (from " + iso8601_from_ms(group.window_start_ms) +
       "). Further records with the same " +
       "topic and reason in that window are counted, not mailed; records in the window so far: " +
       std::to_string(group.count) + ".\n\n";

  b += "How to inspect:\n";
  b += "  this order's alerts:  curl -s '" + links.alerting_url +
       "/api/v1/alerts?orderId=" + url_encode(e.order_id) + "'\n";
  b += "  all alerts, counts:   curl -s '" + links.alerting_url + "/api/v1/alerts'\n";
  b += "  DLQ depths:           curl -s '" + links.alerting_url + "/api/v1/dlq'\n";
  b += "  the DLQ record:       kcat -C -b " + links.kafka_bootstrap + " -t " +
       shell_quote(e.topic) + " -p " + std::to_string(e.partition) + " -o " +
       std::to_string(e.offset) + " -c 1 -f 'key: %k\\nheaders: %h\\nvalue: %s\\n'\n";
  m.body = std::move(b);
  return m;
}

boost::json::object webhook_body(const DlqEntry& e, const Group& group,
                                 const AlertMessage& message) {
  std::string correlation = e.correlation_id;
  if (correlation.empty())
    correlation =
        "orderflow-dlq:" + e.topic + ":" + e.reason + ":" + std::to_string(group.window_start_ms);
  return {{"short_description", message.subject.substr(0, kShortDescriptionMax)},
          {"description", message.body},
          {"urgency", "2"},
          {"impact", "2"},
          {"correlation_id", correlation.substr(0, kCorrelationIdMax)},
          {"category", "orderflow-dlq"}};
}

}  // namespace orderflow::alerting::domain
