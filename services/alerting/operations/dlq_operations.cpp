#include "services/alerting/operations/dlq_operations.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <set>

#include "libs/observability/log.hpp"

namespace orderflow::alerting::operations {
namespace {

using clients::PartitionWatermarks;
using domain::Position;

// Wanted offsets of one partition closer than this are read in one pass rather than by
// assigning the consumer again for each.
constexpr std::int64_t kMaxGap = 256;

OpsError not_found(std::string message) {
  return OpsError{OpsError::Kind::kNotFound, std::move(message), {}};
}

const PartitionWatermarks* find_partition(const std::vector<PartitionWatermarks>& parts,
                                          std::int32_t id) {
  for (const auto& p : parts) {
    if (p.partition == id) return &p;
  }
  return nullptr;
}

std::string describe_range(const PartitionWatermarks& p) {
  if (p.high <= p.low) return "it is empty; its next offset is " + std::to_string(p.high);
  return "it holds offsets " + std::to_string(p.low) + " to " + std::to_string(p.high - 1);
}

std::string no_partition(const std::string& topic, std::int32_t id, std::size_t count) {
  return "partition " + std::to_string(id) + " of " + topic + " does not exist (it has " +
         std::to_string(count) + " partition" + (count == 1 ? "" : "s") + ", 0 to " +
         std::to_string(static_cast<std::int64_t>(count) - 1) + ")";
}

std::string outside(const std::string& topic, const PartitionWatermarks& p, std::int64_t offset) {
  return "offset " + std::to_string(offset) + " is outside partition " +
         std::to_string(p.partition) + " of " + topic + " (" + describe_range(p) + ")";
}

// Reader ranges covering `positions` (sorted): one per run of nearby offsets.
std::vector<clients::DlqReader::Range> runs(const std::vector<Position>& positions) {
  std::vector<clients::DlqReader::Range> out;
  for (const auto& pos : positions) {
    if (!out.empty() && out.back().partition == pos.partition &&
        pos.offset - (out.back().end - 1) <= kMaxGap) {
      out.back().end = std::max(out.back().end, pos.offset + 1);
    } else {
      out.push_back({pos.partition, pos.offset, pos.offset + 1});
    }
  }
  return out;
}

// Waits for every delivery report of one replay call.
class Acks final {
 public:
  explicit Acks(std::size_t n) : results_(n) {}
  void done(std::size_t i, const Status& s) {
    std::lock_guard lock(mu_);
    results_[i] = s.ok() ? std::string() : s.error().message;
    ++done_;
    cv_.notify_all();
  }
  // Per record: nullopt = still unacknowledged, "" = acknowledged, else the error.
  std::vector<std::optional<std::string>> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return done_ == results_.size(); });
    return results_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<std::string>> results_;
  std::size_t done_ = 0;
};

}  // namespace

Outcome<std::vector<PartitionWatermarks>> DlqOperations::partitions(const std::string& topic) {
  auto parts = inspector_.partitions(topic);
  if (!parts.ok()) return OpsError{OpsError::Kind::kUnavailable, parts.error().message, {}};
  if (!parts.value()) {
    return not_found("there is no DLQ topic named '" + topic +
                     "' (GET /api/v1/dlq lists them; DLQ topic names end in .dlq)");
  }
  return std::move(*parts.value());
}

Outcome<BrowseResult> DlqOperations::browse(const std::string& topic, const BrowseQuery& query) {
  auto found = partitions(topic);
  if (auto* e = std::get_if<OpsError>(&found)) return *e;
  BrowseResult out;
  out.topic = topic;
  out.partitions = std::move(std::get<0>(found));

  std::optional<std::int32_t> partition = query.partition;
  if (query.offset && !partition) {
    if (out.partitions.size() != 1) {
      return OpsError{OpsError::Kind::kInvalid,
                      "offset needs partition: " + topic + " has " +
                          std::to_string(out.partitions.size()) + " partitions",
                      {{"partition",
                        "required with offset when the topic has more than one "
                        "partition"}}};
    }
    partition = out.partitions.front().partition;
  }
  std::vector<clients::DlqReader::Range> ranges;
  if (partition) {
    const auto* p = find_partition(out.partitions, *partition);
    if (p == nullptr) return not_found(no_partition(topic, *partition, out.partitions.size()));
    std::int64_t start = p->low;
    if (query.offset) {
      if (*query.offset < p->low || *query.offset >= p->high)
        return not_found(outside(topic, *p, *query.offset));
      start = *query.offset;
    }
    ranges.push_back({p->partition, start, p->high});
  } else {
    for (const auto& p : out.partitions) ranges.push_back({p.partition, p.low, p.high});
  }
  auto batch = reader_.read(topic, ranges, query.limit);
  if (!batch.ok()) return OpsError{OpsError::Kind::kUnavailable, batch.error().message, {}};
  out.records = std::move(batch->records);
  out.complete = batch->complete;
  return out;
}

Outcome<ReplayResult> DlqOperations::replay(const std::string& topic,
                                            const domain::ReplayRequest& request,
                                            const std::string& who,
                                            const std::string& correlation_id) {
  std::lock_guard serial(replay_mu_);
  auto found = partitions(topic);
  if (auto* e = std::get_if<OpsError>(&found)) return *e;
  const auto& parts = std::get<0>(found);

  ReplayResult out;
  out.max = options_.replay_max;
  const auto replayed_before = replays_.replayed(topic);
  domain::ReplayPlan plan;
  if (request.all) {
    std::vector<domain::PartitionRange> ranges;
    for (const auto& p : parts) ranges.push_back({p.partition, p.low, p.high});
    plan = domain::plan_replay_all(ranges, replayed_before, request.force, options_.replay_max);
  } else {
    std::vector<std::string> problems;
    for (const auto& pos : request.offsets) {
      const auto* p = find_partition(parts, pos.partition);
      if (p == nullptr) {
        problems.push_back(no_partition(topic, pos.partition, parts.size()));
      } else if (pos.offset < p->low || pos.offset >= p->high) {
        problems.push_back(outside(topic, *p, pos.offset));
      }
    }
    if (!problems.empty()) {
      std::string message = problems.front();
      if (problems.size() > 1) message += " (and " + std::to_string(problems.size() - 1) + " more)";
      return not_found(message);
    }
    plan =
        domain::plan_replay(request.offsets, replayed_before, request.force, options_.replay_max);
  }
  out.already_replayed = plan.already_replayed;

  // Read everything first: a read that fails or times out publishes nothing.
  std::set<Position> wanted(plan.take.begin(), plan.take.end());
  std::vector<kafka::Record> records;
  if (!plan.take.empty()) {
    auto batch = reader_.read(topic, runs(plan.take), plan.take.size(),
                              [&wanted](std::int32_t p, std::int64_t o) {
                                return wanted.contains(Position{p, o});
                              });
    if (!batch.ok()) return OpsError{OpsError::Kind::kUnavailable, batch.error().message, {}};
    if (!batch->complete) {
      return OpsError{
          OpsError::Kind::kUnavailable,
          "reading the records from " + topic + " did not finish in time; nothing was replayed",
          {}};
    }
    records = std::move(batch->records);
  }
  std::set<Position> read;
  for (const auto& r : records) read.insert({r.partition, r.offset});
  for (const auto& pos : plan.take) {
    if (!read.contains(pos)) out.missing.push_back(pos);
  }

  std::vector<Position> positions;
  std::vector<kafka::Record> to_publish;
  for (const auto& r : records) {
    auto rewritten = domain::replay_record(r);
    if (auto* reason = std::get_if<std::string>(&rewritten)) {
      out.unreplayable.push_back({{r.partition, r.offset}, *reason});
      continue;
    }
    positions.push_back({r.partition, r.offset});
    to_publish.push_back(std::move(std::get<kafka::Record>(rewritten)));
  }

  auto& audit = out.audit;
  audit.time_ms = clock_();
  audit.who = who;
  audit.topic = topic;
  audit.all = request.all;
  audit.dry_run = request.dry_run;
  audit.force = request.force;
  audit.already_replayed = static_cast<std::int64_t>(plan.already_replayed.size());
  audit.remaining = static_cast<std::int64_t>(plan.remaining);
  audit.correlation_id = correlation_id;

  if (request.dry_run) {
    audit.offsets = positions;
    out.replayed = std::move(to_publish);
  } else if (!to_publish.empty()) {
    // Queue all, then wait: the idempotent producer keeps each partition's order, and the
    // records of one key sit in one DLQ partition, read in offset order.
    auto acks = std::make_shared<Acks>(to_publish.size());
    for (std::size_t i = 0; i < to_publish.size(); ++i) {
      producer_.send(to_publish[i], [acks, i](const Status& s) { acks->done(i, s); });
    }
    auto results = acks->wait(options_.ack_timeout);
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i] && results[i]->empty()) {
        audit.offsets.push_back(positions[i]);
        out.replayed.push_back(std::move(to_publish[i]));
      } else {
        out.failed.push_back(
            {positions[i], results[i] ? *results[i]
                                      : "not acknowledged within " +
                                            std::to_string(options_.ack_timeout.count()) + " ms"});
      }
    }
  }
  audit.count = static_cast<std::int64_t>(audit.offsets.size());
  audit.failed = static_cast<std::int64_t>(out.failed.size());
  audit = replays_.record(audit);
  log::info("dlq replay", {{"replayId", std::to_string(audit.id)},
                           {"who", who},
                           {"topic", topic},
                           {"dryRun", audit.dry_run ? "true" : "false"},
                           {"count", std::to_string(audit.count)},
                           {"alreadyReplayed", std::to_string(audit.already_replayed)},
                           {"remaining", std::to_string(audit.remaining)},
                           {"failed", std::to_string(audit.failed)},
                           {"correlationId", correlation_id}});
  return out;
}

}  // namespace orderflow::alerting::operations
