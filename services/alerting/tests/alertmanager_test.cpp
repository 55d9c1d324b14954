#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "services/alerting/domain/alertmanager.hpp"

namespace orderflow::alerting::domain {
namespace {

// What Alertmanager 0.25 posts (webhook_config, version 4) for a ServiceDown group.
constexpr const char* kFiring = R"({
  "receiver": "orderflow", "status": "firing", "version": "4",
  "groupKey": "{}:{alertname=\"ServiceDown\", job=\"payment-gateway\"}", "truncatedAlerts": 0,
  "externalURL": "http://127.0.0.1:9098",
  "groupLabels": {"alertname": "ServiceDown", "job": "payment-gateway"},
  "commonLabels": {"alertname": "ServiceDown", "job": "payment-gateway", "instance": "127.0.0.1:8090", "severity": "critical"},
  "commonAnnotations": {"summary": "payment-gateway is down", "description": "Prometheus could not scrape payment-gateway (127.0.0.1:8090) for 1 minute."},
  "alerts": [{"status": "firing",
              "labels": {"alertname": "ServiceDown", "job": "payment-gateway", "instance": "127.0.0.1:8090", "severity": "critical"},
              "annotations": {"summary": "payment-gateway is down", "description": "Prometheus could not scrape payment-gateway (127.0.0.1:8090) for 1 minute."},
              "startsAt": "2026-12-07T01:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up+%3D%3D+0", "fingerprint": "abc"}]
})";

boost::json::object incident(const std::string& json) {
  auto out = incident_from_alertmanager(boost::json::parse(json));
  if (auto* error = std::get_if<std::string>(&out)) ADD_FAILURE() << *error;
  return std::get<boost::json::object>(out);
}

TEST(AlertmanagerIncident, AFiringGroupIsAServiceNowIncident) {
  auto body = incident(kFiring);
  EXPECT_EQ(body.at("short_description").as_string(), "[FIRING:1] ServiceDown: payment-gateway is down");
  const std::string description(body.at("description").as_string());
  EXPECT_NE(description.find("[firing] ServiceDown"), std::string::npos) << description;
  EXPECT_NE(description.find("job=payment-gateway"), std::string::npos) << description;
  EXPECT_NE(description.find("for 1 minute"), std::string::npos) << description;
  EXPECT_NE(description.find("since 2026-12-07T01:00:00Z"), std::string::npos) << description;
  EXPECT_NE(description.find("http://127.0.0.1:9098"), std::string::npos) << description;
  EXPECT_EQ(body.at("urgency").as_string(), "1") << "critical";
  EXPECT_EQ(body.at("impact").as_string(), "1");
  EXPECT_EQ(body.at("category").as_string(), "orderflow-prometheus");
  EXPECT_TRUE(body.at("correlation_id").as_string().starts_with("alertmanager:"));
  EXPECT_LE(body.at("correlation_id").as_string().size(), 100u);
}

TEST(AlertmanagerIncident, TheResolvedNoticeCarriesTheSameCorrelationId) {
  std::string resolved = kFiring;
  for (auto pos = resolved.find("\"firing\""); pos != std::string::npos; pos = resolved.find("\"firing\"")) {
    resolved.replace(pos, 8, "\"resolved\"");
  }
  auto firing = incident(kFiring);
  auto body = incident(resolved);
  EXPECT_EQ(body.at("short_description").as_string(), "[RESOLVED] ServiceDown: payment-gateway is down");
  EXPECT_NE(std::string(body.at("description").as_string()).find("resolved 0001-01-01"), std::string::npos);
  EXPECT_EQ(body.at("correlation_id"), firing.at("correlation_id"));
}

TEST(AlertmanagerIncident, SeverityAndMissingAnnotations) {
  auto body = incident(R"({"status":"firing","groupKey":"g","alerts":[
      {"status":"firing","labels":{"alertname":"ConsumerLagHigh","severity":"warning"}},
      {"status":"firing","labels":{"alertname":"ConsumerLagHigh"}}]})");
  EXPECT_EQ(body.at("short_description").as_string(), "[FIRING:2] ConsumerLagHigh");
  EXPECT_EQ(body.at("urgency").as_string(), "2");
  auto other = incident(R"({"status":"firing","groupKey":"h","alerts":[]})");
  EXPECT_EQ(other.at("urgency").as_string(), "3");
  EXPECT_NE(other.at("correlation_id"), body.at("correlation_id"));
}

TEST(AlertmanagerIncident, RefusesWhatIsNotAnAlertmanagerNotification) {
  for (const char* json : {R"([])", R"({"status":"firing"})", R"({"alerts":[]})", R"({"status":"x","alerts":[]})"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(incident_from_alertmanager(boost::json::parse(json)))) << json;
  }
}

}  // namespace
}  // namespace orderflow::alerting::domain
