#include "services/alerting/domain/alertmanager.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>

namespace orderflow::alerting::domain {
namespace {

constexpr std::size_t kShortDescriptionMax = 160;  // as the DLQ alerts' (alert.cpp)
constexpr std::size_t kDescriptionMax = 16000;

std::string str(const boost::json::object* o, std::string_view key) {
  if (!o) return {};
  const auto* v = o->if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

const boost::json::object* obj(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

int severity_rank(const std::string& severity) {
  if (severity == "critical") return 1;
  if (severity == "warning") return 2;
  return 3;
}

std::string fnv1a_hex(std::string_view s) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

std::variant<boost::json::object, std::string> incident_from_alertmanager(const boost::json::value& notification) {
  if (!notification.is_object()) return std::string("the body is not a JSON object");
  const auto& n = notification.as_object();
  const auto* alerts_v = n.if_contains("alerts");
  if (!alerts_v || !alerts_v->is_array()) return std::string("no \"alerts\" array: not an Alertmanager notification");
  const std::string status = str(&n, "status");
  if (status != "firing" && status != "resolved") {
    return std::string("\"status\" must be \"firing\" or \"resolved\"");
  }
  const auto* common_labels = obj(n, "commonLabels");
  const auto* common_annotations = obj(n, "commonAnnotations");

  std::string alertname = str(common_labels, "alertname");
  if (alertname.empty()) alertname = str(obj(n, "groupLabels"), "alertname");
  std::string summary = str(common_annotations, "summary");
  int rank = 3;
  std::size_t firing = 0;
  std::string details;
  for (const auto& a : alerts_v->as_array()) {
    if (!a.is_object()) continue;
    const auto& alert = a.as_object();
    const auto* labels = obj(alert, "labels");
    const auto* annotations = obj(alert, "annotations");
    const std::string alert_status = str(&alert, "status");
    if (alert_status == "firing") ++firing;
    rank = std::min(rank, severity_rank(str(labels, "severity")));
    if (alertname.empty()) alertname = str(labels, "alertname");
    if (summary.empty()) summary = str(annotations, "summary");
    details += "\n[" + (alert_status.empty() ? status : alert_status) + "] " + str(labels, "alertname");
    if (labels) {
      for (const auto& [k, v] : *labels) {
        if (k != "alertname" && v.is_string()) details += " " + std::string(k) + "=" + std::string(v.as_string());
      }
    }
    if (auto s = str(annotations, "summary"); !s.empty()) details += "\n  " + s;
    if (auto d = str(annotations, "description"); !d.empty()) details += "\n  " + d;
    details += "\n  since " + str(&alert, "startsAt");
    if (alert_status == "resolved") details += ", resolved " + str(&alert, "endsAt");
    if (auto g = str(&alert, "generatorURL"); !g.empty()) details += "\n  source: " + g;
  }
  if (alertname.empty()) alertname = "alert";

  std::string title = status == "firing" ? "[FIRING:" + std::to_string(firing) + "] " : "[RESOLVED] ";
  title += alertname;
  if (!summary.empty()) title += ": " + summary;
  std::string description = "Prometheus alert " + status + ", sent by Alertmanager";
  if (auto url = str(&n, "externalURL"); !url.empty()) description += " (" + url + ")";
  description += "." + details;
  const std::string rank_text = std::to_string(rank);
  return boost::json::object{{"short_description", title.substr(0, kShortDescriptionMax)},
                             {"description", description.substr(0, kDescriptionMax)},
                             {"urgency", rank_text},
                             {"impact", rank_text},
                             {"correlation_id", "alertmanager:" + fnv1a_hex(str(&n, "groupKey"))},
                             {"category", "orderflow-prometheus"}};
}

}  // namespace orderflow::alerting::domain
