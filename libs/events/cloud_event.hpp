#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "libs/common/result.hpp"
#include "libs/kafka/record.hpp"
#include "libs/observability/trace.hpp"

namespace orderflow::events {

inline constexpr int kSchemaVersion = 1;

// Topics of SPEC §4.
inline constexpr const char* kOrderEvents = "order-events";
inline constexpr const char* kPaymentEvents = "payment-events";
inline constexpr const char* kPaymentRetry = "payment-service.retry";

// CloudEvents 1.0 attributes carried in Kafka headers (binary content mode).
struct CloudEvent final {
  std::string id;              // ce_id: a UUID, the idempotency key of consumers
  std::string type;            // ce_type: OrderCreated, PaymentSuccess, ...
  std::string source;          // ce_source: the producing service
  std::string time;            // ce_time: RFC 3339
  std::string correlation_id;  // ce_correlationid
  std::string traceparent;     // W3C trace context of the span that produced it

  // A new event of `type`, produced within the span `trace` (its traceparent names that
  // span, so a consumer's span becomes its child), continuing `correlation_id`.
  static CloudEvent make(std::string type, std::string source, std::string correlation_id,
                         const trace::Context& trace);
};

kafka::Headers to_headers(const CloudEvent& ce);

// A consumed record, checked: CloudEvents headers present, value a JSON object, and a
// schemaVersion this code knows. Error codes are DLQ reasons: "malformed-event",
// "unsupported-schema-version".
struct Decoded final {
  CloudEvent ce;
  boost::json::object payload;
};
Result<Decoded> decode(const kafka::Record& record);

// A record for `topic` keyed by `key` with `payload` (schemaVersion is added).
kafka::Record encode(std::string topic, std::string key, const CloudEvent& ce, boost::json::object payload);

}  // namespace orderflow::events
