#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "libs/kafka/producer.hpp"
#include "libs/kafka/record.hpp"
#include "services/alerting/clients/dlq_inspector.hpp"
#include "services/alerting/clients/dlq_reader.hpp"
#include "services/alerting/domain/dlq_ops.hpp"
#include "services/alerting/repository/replay_repository.hpp"

namespace orderflow::alerting::operations {

// Why an operation did not happen; the handlers map kinds to HTTP statuses.
struct OpsError final {
  enum class Kind { kNotFound, kInvalid, kUnavailable };
  Kind kind = Kind::kUnavailable;
  std::string message;
  std::vector<domain::FieldProblem> fields;  // kInvalid: which query field
};

template <class T>
using Outcome = std::variant<T, OpsError>;

struct BrowseQuery final {
  std::optional<std::int32_t> partition;
  std::optional<std::int64_t> offset;
  std::size_t limit = 20;
};

struct BrowseResult final {
  std::string topic;
  std::vector<clients::PartitionWatermarks> partitions;
  std::vector<kafka::Record> records;
  bool complete = true;  // false: the read deadline passed first
};

struct ReplayResult final {
  domain::ReplayAudit audit;  // as recorded (audit.offsets: replayed, or would be for a dry run)
  std::vector<kafka::Record> replayed;  // the records published (dry run: would be), in order
  std::vector<domain::Position> already_replayed;
  std::vector<domain::Position> missing;  // in range but not found (retention, or a gap)
  struct Skipped final {
    domain::Position position;
    std::string reason;
  };
  std::vector<Skipped> unreplayable;  // e.g. no dlq-original-topic header
  std::vector<Skipped> failed;        // not acknowledged by Kafka
  std::size_t max = 0;                // the cap per call
};

// Browsing and replaying DLQ records (SPEC §7): checks positions against the topic's
// watermarks, reads with DlqReader, re-publishes with the service's idempotent producer and
// waits for the acknowledgements, and writes the audit. Blocking: call on the blocking pool.
// Replays are serialised, so two concurrent calls cannot both replay the same record.
class DlqOperations final {
 public:
  struct Options final {
    std::size_t replay_max = 500;
    std::chrono::milliseconds ack_timeout{30'000};
  };
  DlqOperations(clients::DlqInspector& inspector, clients::DlqReader& reader,
                kafka::Producer& producer, repository::ReplayRepository& replays,
                std::function<std::int64_t()> clock, Options options)
      : inspector_(inspector),
        reader_(reader),
        producer_(producer),
        replays_(replays),
        clock_(std::move(clock)),
        options_(options) {}

  Outcome<BrowseResult> browse(const std::string& topic, const BrowseQuery& query);
  Outcome<ReplayResult> replay(const std::string& topic, const domain::ReplayRequest& request,
                               const std::string& who, const std::string& correlation_id);

 private:
  Outcome<std::vector<clients::PartitionWatermarks>> partitions(const std::string& topic);

  clients::DlqInspector& inspector_;
  clients::DlqReader& reader_;
  kafka::Producer& producer_;
  repository::ReplayRepository& replays_;
  std::function<std::int64_t()> clock_;
  Options options_;
  std::mutex replay_mu_;
};

}  // namespace orderflow::alerting::operations
