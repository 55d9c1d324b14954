#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "libs/auth/admin_tokens.hpp"
#include "libs/kafka/record.hpp"

// DLQ operations (SPEC §7): who may call them, what a replayed record looks like, which
// records one replay call takes, and what is written down about it. Pure logic: no Kafka,
// HTTP or SQL here.
namespace orderflow::alerting::domain {

// ------------------------------------------------------------------------ admin token
// The admin token check is shared with payment-gateway's fault injection (libs/auth).
using auth::AdminCheck;
using auth::AdminToken;
using auth::check_admin;
using auth::constant_time_equals;
using auth::parse_admin_tokens;

// ------------------------------------------------------------------------ replaying

inline constexpr std::string_view kReplayedFromHeader = "dlq-replayed-from";
inline constexpr std::string_view kOriginalTopicHeader = "dlq-original-topic";

struct Position final {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  auto operator<=>(const Position&) const = default;
};

// The record to publish for the DLQ record `dlq` (read from `dlq.topic`, `dlq.partition`,
// `dlq.offset`): to its dlq-original-topic, same key and value, its headers without any
// dlq-* header (failure headers and an earlier dlq-replayed-from), plus
// dlq-replayed-from: <topic>:<partition>:<offset>. Everything else is kept in order, among
// it ce_id (consumers that applied it already skip it), ce_correlationid and traceparent.
// Partition -1: chosen by key, as the original producer did. Fails without a usable
// dlq-original-topic.
std::variant<kafka::Record, std::string> replay_record(const kafka::Record& dlq);

// The replay request body: {"offsets":[{"partition":0,"offset":12},...]} or {"all":true},
// with optional "dryRun" and "force" booleans. Unknown fields are refused, so that a typo
// such as "dryrun" cannot turn a dry run into a real one.
struct ReplayRequest final {
  bool all = false;
  std::vector<Position> offsets;  // sorted, without duplicates; empty when `all`
  bool dry_run = false;
  bool force = false;
};
struct FieldProblem final {
  std::string field;
  std::string message;
};
std::variant<ReplayRequest, std::vector<FieldProblem>> parse_replay_request(
    const boost::json::value& body);

// What one call takes: candidates (in partition, offset order) minus those replayed before
// (reported, and skipped unless `force`), then at most `max` of the rest; `remaining` is
// how many are left for a later call.
struct ReplayPlan final {
  std::vector<Position> take;
  std::vector<Position> already_replayed;
  std::size_t remaining = 0;
};
ReplayPlan plan_replay(const std::vector<Position>& candidates,
                       const std::set<Position>& replayed_before, bool force, std::size_t max);

// The same over whole partitions ([low, high) each) for {"all":true}, without listing
// every offset of the topic. Already replayed ones are neither taken nor counted as
// remaining, so repeated calls work through a large DLQ `max` at a time.
struct PartitionRange final {
  std::int32_t partition = 0;
  std::int64_t low = 0;
  std::int64_t high = 0;  // exclusive
};
ReplayPlan plan_replay_all(const std::vector<PartitionRange>& ranges,
                           const std::set<Position>& replayed_before, bool force, std::size_t max);

// ------------------------------------------------------------------------ the audit

// One replay call, as written down (dry runs too).
struct ReplayAudit final {
  std::int64_t id = 0;
  std::int64_t time_ms = 0;
  std::string who;
  std::string topic;
  bool all = false;               // {"all":true} rather than listed offsets
  std::vector<Position> offsets;  // replayed (or, for a dry run, those that would be)
  bool dry_run = false;
  bool force = false;
  std::int64_t count = 0;  // records replayed (dry run: would be)
  std::int64_t already_replayed = 0;
  std::int64_t remaining = 0;
  std::int64_t failed = 0;  // not acknowledged by Kafka
  std::string correlation_id;
};
boost::json::object to_json(const ReplayAudit& audit);
// The offsets column and back: [{"partition":0,"offset":12},...].
std::string offsets_to_json(const std::vector<Position>& offsets);
std::vector<Position> offsets_from_json(std::string_view text);

// ------------------------------------------------------------------------ browsing

// A DLQ record for GET /api/v1/dlq/{topic}/messages: partition, offset, timestamp, key,
// value (the parsed JSON when it is JSON, else the text; base64 when it is not UTF-8;
// cut at `max_value_bytes` with "valueTruncated":true) and every header in order.
boost::json::object message_json(const kafka::Record& record, std::size_t max_value_bytes);

bool valid_utf8(std::string_view s);

}  // namespace orderflow::alerting::domain
