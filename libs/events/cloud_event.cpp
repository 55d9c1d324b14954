#include "libs/events/cloud_event.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "libs/common/ids.hpp"
#include "libs/common/time.hpp"

namespace orderflow::events {

CloudEvent CloudEvent::make(std::string type, std::string source, std::string correlation_id,
                            const trace::Context& trace) {
  return CloudEvent{ids::uuid_v7(), std::move(type), std::move(source), now_iso8601(),
                    std::move(correlation_id), trace.traceparent()};
}

kafka::Headers to_headers(const CloudEvent& ce) {
  return {{"ce_specversion", "1.0"},
          {"ce_id", ce.id},
          {"ce_type", ce.type},
          {"ce_source", ce.source},
          {"ce_time", ce.time},
          {"content-type", "application/json"},
          {"ce_correlationid", ce.correlation_id},
          {"traceparent", ce.traceparent}};
}

Result<Decoded> decode(const kafka::Record& record) {
  auto malformed = [](std::string why) { return Error{"malformed-event", std::move(why), false}; };
  Decoded d;
  struct Required {
    const char* name;
    std::string* into;
  } required[] = {{"ce_id", &d.ce.id}, {"ce_type", &d.ce.type}, {"ce_source", &d.ce.source}};
  for (auto& r : required) {
    auto v = record.header(r.name);
    if (!v || v->empty()) return malformed(std::string("missing CloudEvents header ") + r.name);
    *r.into = *v;
  }
  if (record.header("ce_specversion") != "1.0") return malformed("ce_specversion must be 1.0");
  d.ce.time = record.header("ce_time").value_or("");
  d.ce.correlation_id = record.header("ce_correlationid").value_or("");
  d.ce.traceparent = record.header("traceparent").value_or("");
  if (d.ce.correlation_id.empty()) d.ce.correlation_id = d.ce.id;

  boost::system::error_code ec;
  auto value = boost::json::parse(record.value, ec);
  if (ec) return malformed("value is not JSON: " + ec.message());
  if (!value.is_object()) return malformed("value is not a JSON object");
  d.payload = std::move(value.as_object());
  const auto* version = d.payload.if_contains("schemaVersion");
  if (!version || !version->is_int64()) return malformed("schemaVersion missing or not an integer");
  if (version->as_int64() != kSchemaVersion) {
    return Error{"unsupported-schema-version",
                 "schemaVersion " + std::to_string(version->as_int64()) + " is not supported (known: " +
                     std::to_string(kSchemaVersion) + ")",
                 false};
  }
  return d;
}

kafka::Record encode(std::string topic, std::string key, const CloudEvent& ce, boost::json::object payload) {
  payload["schemaVersion"] = kSchemaVersion;
  kafka::Record r;
  r.topic = std::move(topic);
  r.key = std::move(key);
  r.value = boost::json::serialize(payload);
  r.headers = to_headers(ce);
  return r;
}

}  // namespace orderflow::events
