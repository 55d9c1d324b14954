#pragma once

#include <cstdint>
#include <string>

#include "libs/kafka/record.hpp"

namespace orderflow::kafka {

// Why and how a record failed, for the DLQ headers of SPEC §4.
struct DlqFailure final {
  std::string consumer_group;
  std::string reason;         // e.g. gateway-unavailable, malformed-event, unsupported-schema-version
  std::string error_message;
  int attempts = 1;
  std::string first_failure_time;  // ISO 8601
  std::string last_failure_time;
};

// Set on a record re-published from a DLQ by an operator (alerting-service's replay):
// "<dlq topic>:<partition>:<offset>" of the DLQ record it came from.
inline constexpr const char* kReplayedFromHeader = "dlq-replayed-from";

// The DLQ topic of a consuming service: "<service>.dlq".
inline std::string dlq_topic(const std::string& service) { return service + ".dlq"; }

// The DLQ copy of `original`: same key, value and headers, plus the dlq-* headers.
// Earlier dlq-* headers (a replayed record that failed again) are replaced.
Record make_dlq_record(const Record& original, const std::string& dlq_topic, const DlqFailure& failure);

}  // namespace orderflow::kafka
