#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <variant>

// Prometheus alerts reach the incident webhook through alerting-service: Alertmanager posts
// its own webhook format (version 4), the incident system wants ServiceNow's incident Table
// API body, the same shape as the DLQ alerts' webhook (alert.hpp). Pure logic.
namespace orderflow::alerting::domain {

// The incident body for one Alertmanager notification (one group of alerts):
//   short_description  "[FIRING:2] ServiceDown: payment-gateway is down" / "[RESOLVED] ..."
//   description        every alert: status, labels, summary, description, since/until, source
//   urgency, impact    "1" critical, "2" warning, "3" anything else (the highest severity)
//   correlation_id     "alertmanager:<hash of the group key>": the same for a group's firing
//                      and resolved notices, so the receiving side can pair them
//   category           "orderflow-prometheus"
// A notification that is not Alertmanager's shape (no "alerts" array, no "status") is an
// error message instead.
std::variant<boost::json::object, std::string> incident_from_alertmanager(const boost::json::value& notification);

}  // namespace orderflow::alerting::domain
