#include "libs/kafka/consumer.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <thread>

#include "libs/common/thread_name.hpp"
#include "libs/kafka/client_events.hpp"
#include "libs/kafka/handle_record.hpp"
#include "libs/observability/log.hpp"

namespace orderflow::kafka {

Consumer::Consumer(const ClientConfig& config, const std::string& group_id,
                   const std::vector<std::string>& topics, const std::string& client_id,
                   metrics::Registry* registry)
    : group_id_(group_id),
      events_(registry != nullptr ? std::make_unique<ClientEvents>(*registry, group_id)
                                  : std::make_unique<ClientEvents>()) {
  auto conf = config.make_conf({{"group.id", group_id},
                                {"statistics.interval.ms", registry != nullptr ? kDefaultStatsIntervalMs : "0"},
                                {"client.id", client_id},
                                {"enable.auto.commit", "true"},
                                {"enable.auto.offset.store", "false"},
                                {"auto.offset.reset", "earliest"},
                                {"enable.partition.eof", "false"},
                                // How long the broker holds a fetch that finds nothing new.
                                // A record that arrives meanwhile answers it at once
                                // (fetch.min.bytes 1), so this costs no latency; it only
                                // sets how often an idle consumer asks. 50 ms made the five
                                // services' consumers ~100 fetches/s and the broker ~85 ms
                                // of CPU per second with nothing to do (bench/README.md).
                                {"fetch.wait.max.ms", "500"},
                                // The prefetch: librdkafka's default is 64 MiB per consumer
                                // (and fetches of up to 50 MiB), most of a service's RSS
                                // under a backlog. 1 MiB and 1 MiB per fetch is ~1,000
                                // records ahead; a fetcher that stops for a second when the
                                // queue is full is woken by poll (below), so the bound
                                // does not cap a backlog's drain (bench/README.md).
                                {"queued.max.messages.kbytes", "1024"},
                                {"fetch.max.bytes", "1048576"},
                                {"max.partition.fetch.bytes", "262144"},
                                {"topic.metadata.refresh.interval.ms", "5000"},
                                // Failover (README.md "Broker failover"): a member whose
                                // coordinator broker dies keeps its partitions only if it
                                // reaches the new coordinator within the session timeout.
                                // Heartbeats every 1 s [3 s] leave ~9 s of a 10 s [45 s]
                                // session for that (~3-5 s); 10 s also hands a crashed
                                // member's partitions to the others 35 s sooner.
                                {"session.timeout.ms", "10000"},
                                {"heartbeat.interval.ms", "1000"},
                                {"allow.auto.create.topics", "true"}},
                               events_.get());
  std::string err;
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw ConfigError("cannot create Kafka consumer: " + err);
  auto rc = consumer_->subscribe(topics);
  if (rc != RdKafka::ERR_NO_ERROR) throw ConfigError("subscribe failed: " + RdKafka::err2str(rc));
}

Consumer::~Consumer() { close(); }

namespace {

// A consumed message as a Record; nullopt for "nothing" (timeout, EOF) and errors (logged).
std::optional<Record> to_record(RdKafka::Message& msg, const std::string& group) {
  switch (msg.err()) {
    case RdKafka::ERR_NO_ERROR: break;
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__PARTITION_EOF: return std::nullopt;
    default:
      log::warn("consumer error", {{"group", group}, {"error", msg.errstr()}});
      return std::nullopt;
  }
  Record r;
  r.topic = msg.topic_name();
  r.partition = msg.partition();
  r.offset = msg.offset();
  r.timestamp_ms = msg.timestamp().timestamp;
  if (msg.key()) r.key = *msg.key();
  if (msg.payload()) r.value.assign(static_cast<const char*>(msg.payload()), msg.len());
  if (auto* h = msg.headers()) {
    for (const auto& hdr : h->get_all()) {
      r.headers.emplace_back(hdr.key(), hdr.value() ? std::string(static_cast<const char*>(hdr.value()), hdr.value_size())
                                                    : std::string());
    }
  }
  return r;
}

}  // namespace

std::unique_ptr<RdKafka::Message> Consumer::consume_first(std::chrono::milliseconds timeout) {
  // A queue still empty after 10 ms while the broker holds more for us is a stalled
  // fetcher (wake_stalled_fetcher): woken, and the wait goes on.
  constexpr int kStalledAfterMs = 10;
  const auto total = static_cast<int>(timeout.count());
  std::unique_ptr<RdKafka::Message> msg(consumer_->consume(std::min(total, kStalledAfterMs)));
  if ((!msg || msg->err() == RdKafka::ERR__TIMED_OUT) && total > kStalledAfterMs) {
    wake_stalled_fetcher();
    msg.reset(consumer_->consume(total - kStalledAfterMs));
  }
  return msg;
}

std::optional<Record> Consumer::poll(std::chrono::milliseconds timeout) {
  auto msg = consume_first(timeout);
  if (!msg) return std::nullopt;
  return to_record(*msg, group_id_);
}

std::vector<Record> Consumer::poll_batch(std::size_t max, std::chrono::milliseconds timeout,
                                         std::chrono::milliseconds fill) {
  std::vector<Record> batch;
  // The first record may be waited for; then what the fetcher already queued, and what it
  // queues until `fill` after the first: this thread sleeps through the fill rather than
  // waking for each record that arrives meanwhile.
  auto msg = consume_first(timeout);
  bool filled = fill.count() <= 0;
  while (msg) {
    if (msg->err() == RdKafka::ERR__TIMED_OUT) {
      if (batch.empty() || filled) break;
      filled = true;
      std::this_thread::sleep_for(fill);
      msg.reset(consumer_->consume(0));
      continue;
    }
    if (auto r = to_record(*msg, group_id_)) batch.push_back(std::move(*r));
    if (batch.size() >= max) break;
    msg.reset(consumer_->consume(0));
  }
  return batch;
}

// librdkafka 2.0 stops fetching for a whole second once its prefetch queue reaches
// queued.max.messages.kbytes, and nothing wakes the fetcher when the application empties
// the queue (2.2 added fetch.queue.backoff.ms; librdkafka issue #2879): a consumer behind a
// backlog would read one queue's worth per second and then wait. Any request to a
// partition's leader wakes the broker thread that fetches from it, and it then fetches at
// once. So when a poll has found the queue empty for a while although the broker is known
// to hold more than this consumer has taken (the high watermark of the last fetch response
// is past the position), ask that leader for the partition's watermarks: two small
// requests, at most every 20 ms, only while behind, and once per position (a partition
// whose high watermark stays past what can be consumed, e.g. behind a transaction marker,
// is not asked again).
void Consumer::wake_stalled_fetcher() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_wake_ < std::chrono::milliseconds(20)) return;
  last_wake_ = now;
  std::vector<RdKafka::TopicPartition*> parts;
  if (consumer_->assignment(parts) != RdKafka::ERR_NO_ERROR || parts.empty()) {
    RdKafka::TopicPartition::destroy(parts);
    return;
  }
  std::int64_t low = 0;
  std::int64_t high = 0;
  const RdKafka::TopicPartition* behind = nullptr;
  if (consumer_->position(parts) == RdKafka::ERR_NO_ERROR) {
    for (const auto* p : parts) {
      const bool asked = p->offset() == woken_.offset && p->partition() == woken_.partition && p->topic() == woken_.topic;
      if (p->offset() >= 0 && !asked &&
          consumer_->get_watermark_offsets(p->topic(), p->partition(), &low, &high) == RdKafka::ERR_NO_ERROR &&
          high > p->offset()) {
        behind = p;
        break;
      }
    }
  }
  if (behind != nullptr) {
    ++fetcher_wakes_;
    woken_ = {behind->topic(), behind->partition(), behind->offset()};
    consumer_->query_watermark_offsets(behind->topic(), behind->partition(), &low, &high, 1000);
  }
  RdKafka::TopicPartition::destroy(parts);
}

void Consumer::store(const Record& record) { store_offset(record.topic, record.partition, record.offset + 1); }

void Consumer::store_offset(const std::string& topic, std::int32_t partition, std::int64_t next_offset) {
  std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(topic, partition, next_offset));
  std::vector<RdKafka::TopicPartition*> list{tp.get()};
  auto rc = consumer_->offsets_store(list);
  if (rc != RdKafka::ERR_NO_ERROR && rc != RdKafka::ERR__STATE) {
    log::warn("offset store failed", {{"topic", topic}, {"error", RdKafka::err2str(rc)}});
  }
}

void Consumer::close() {
  if (closed_) return;
  closed_ = true;
  consumer_->close();
}

ConsumerLoop::ConsumerLoop(Consumer& consumer, Handler handler, std::string name, trace::Tracer* tracer)
    : consumer_(consumer), handler_(std::move(handler)), name_(std::move(name)), tracer_(tracer) {}

ConsumerLoop::~ConsumerLoop() { stop(); }

void ConsumerLoop::start() {
  running_ = true;
  thread_ = std::thread([this] {
    name_this_thread("consume");
    run();
  });
}

void ConsumerLoop::stop() {
  {
    std::lock_guard lock(mu_);
    running_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  consumer_.close();
}

bool ConsumerLoop::wait_backoff(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return !running_.load(); });
}

void ConsumerLoop::run() {
  const auto wait = [this](std::chrono::milliseconds d) { return wait_backoff(d); };
  while (running_) {
    auto record = consumer_.poll(std::chrono::milliseconds(100));
    if (!record) continue;
    // Stopping mid-record: it is not stored, so it is redelivered after the restart.
    if (!detail::handle_until_done(*record, handler_, name_, consumer_.group_id(), tracer_, failing_, wait)) return;
    consumer_.store(*record);
  }
}

namespace detail {

ConsumerSpan start_consumer_span(trace::Tracer* tracer, const Record& record, const std::string& group) {
  const auto traceparent = record.header("traceparent").value_or("");
  if (tracer == nullptr) return {trace::Span(), trace::Context::continue_or_start(traceparent)};
  ConsumerSpan out{tracer->start(record.topic + " " + record.header("ce_type").value_or("record"),
                                 trace::SpanKind::kConsumer, traceparent),
                   {}};
  out.context = out.span.context();
  out.span.tag("messaging.system", "kafka");
  out.span.tag("messaging.destination", record.topic);
  out.span.tag("messaging.kafka.partition", std::to_string(record.partition));
  out.span.tag("messaging.kafka.offset", std::to_string(record.offset));
  out.span.tag("messaging.kafka.key", record.key);
  out.span.tag("messaging.consumer.group", group);
  return out;
}

bool handle_until_done(const Record& record, const std::function<void(const Record&)>& handler,
                       const std::string& loop_name, const std::string& group, trace::Tracer* tracer,
                       std::atomic<int>& failing, const std::function<bool(std::chrono::milliseconds)>& wait) {
  auto backoff = std::chrono::milliseconds(100);
  bool failed = false;
  FailureLog failures;
  for (;;) {
    auto [span, context] = start_consumer_span(tracer, record, group);
    try {
      trace::ScopedContext scope(context);
      handler(record);
      if (failed) {
        --failing;
        log::info("record handling recovered", {{"consumer", loop_name}, {"topic", record.topic}, {"key", record.key},
                                                {"attempts", std::to_string(failures.attempts() + 1)},
                                                {"failedForS", failures.failing_for()}});
      }
      return true;
    } catch (const std::exception& e) {
      if (!failed) ++failing;
      failed = true;
      span.tag("error", e.what());
      if (failures.failed()) {
        log::error("record handling failed; will retry", {{"consumer", loop_name}, {"topic", record.topic},
                                                           {"key", record.key}, {"error", e.what()},
                                                           {"attempts", std::to_string(failures.attempts())},
                                                           {"failingForS", failures.failing_for()},
                                                           {"traceId", context.trace_id}});
      }
      if (!wait(backoff)) {
        --failing;
        return false;
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

}  // namespace detail

}  // namespace orderflow::kafka
