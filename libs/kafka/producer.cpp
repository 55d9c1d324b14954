#include "libs/kafka/producer.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>

#include "libs/common/thread_name.hpp"
#include "libs/kafka/client_events.hpp"
#include "libs/observability/log.hpp"

namespace orderflow::kafka {

class DeliveryReporter final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& msg) override {
    std::unique_ptr<Producer::DeliveryFn> fn(static_cast<Producer::DeliveryFn*>(msg.msg_opaque()));
    if (!fn) return;
    if (msg.err() == RdKafka::ERR_NO_ERROR) {
      (*fn)(ok_status());
    } else {
      (*fn)(Error{"delivery-failed", msg.errstr(), true});
    }
  }
};

Producer::Producer(const ClientConfig& config, const std::string& client_id, metrics::Registry* registry)
    : reporter_(std::make_unique<DeliveryReporter>()),
      events_(registry != nullptr ? std::make_unique<ClientEvents>(*registry, "") : std::make_unique<ClientEvents>()) {
  auto conf = config.make_conf({{"client.id", client_id},
                                {"statistics.interval.ms", registry != nullptr ? kDefaultStatsIntervalMs : "0"},
                                {"enable.idempotence", "true"},
                                {"acks", "all"},
                                // No linger: every consumer in the pipeline produces with
                                // send_sync (the ack comes before its offset commit), so a
                                // linger is paid once per record per hop. Under load records
                                // still batch behind the 5 in-flight requests idempotence
                                // allows. Measured: bench/README.md (T1 +60 %, L2 -4 ms).
                                {"linger.ms", "0"},
                                {"compression.type", "lz4"},
                                {"message.timeout.ms", "60000"}},
                               events_.get());
  std::string err;
  if (conf->set("dr_cb", reporter_.get(), err) != RdKafka::Conf::CONF_OK) throw ConfigError(err);
  producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!producer_) throw ConfigError("cannot create Kafka producer: " + err);
  poller_ = std::thread([this] {
    name_this_thread("produce-acks");
    while (running_.load(std::memory_order_relaxed)) producer_->poll(50);
  });
}

Producer::~Producer() {
  if (!flush(std::chrono::seconds(10))) {
    log::warn("producer closed with undelivered records", {{"queued", std::to_string(queue_length())}});
  }
  running_ = false;
  if (poller_.joinable()) poller_.join();
  producer_->poll(0);
}

void Producer::send(Record record, DeliveryFn on_delivery) {
  auto* headers = RdKafka::Headers::create();
  for (const auto& [k, v] : record.headers) headers->add(k, v.data(), v.size());
  auto* opaque = new DeliveryFn(std::move(on_delivery));
  for (;;) {
    auto rc = producer_->produce(record.topic, record.partition < 0 ? RdKafka::Topic::PARTITION_UA : record.partition,
                                 RdKafka::Producer::RK_MSG_COPY, record.value.data(), record.value.size(),
                                 record.key.data(), record.key.size(), 0, headers, opaque);
    if (rc == RdKafka::ERR_NO_ERROR) return;  // librdkafka owns `headers` now
    if (rc == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(10);
      continue;
    }
    delete headers;
    std::unique_ptr<DeliveryFn> fn(opaque);
    (*fn)(Error{"produce-failed", RdKafka::err2str(rc), rc != RdKafka::ERR__UNKNOWN_TOPIC});
    return;
  }
}

Status Producer::send_sync(Record record, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  send(std::move(record), [promise](const Status& s) { promise->set_value(s); });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return Error{"timeout", "no delivery report within deadline", true};
  }
  return future.get();
}

Status Producer::send_all(std::vector<Record> records, std::chrono::milliseconds timeout) {
  if (records.empty()) return ok_status();
  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t remaining = 0;
    std::optional<Error> error;
  };
  auto pending = std::make_shared<Pending>();
  pending->remaining = records.size();
  for (auto& r : records) {
    send(std::move(r), [pending](const Status& s) {
      std::lock_guard lock(pending->mu);
      if (!s && !pending->error) pending->error = s.error();
      if (--pending->remaining == 0) pending->cv.notify_one();
    });
  }
  std::unique_lock lock(pending->mu);
  if (!pending->cv.wait_for(lock, timeout, [&] { return pending->remaining == 0; })) {
    return Error{"timeout", "no delivery report within deadline", true};
  }
  if (pending->error) return *pending->error;
  return ok_status();
}

bool Producer::flush(std::chrono::milliseconds timeout) {
  return producer_->flush(static_cast<int>(timeout.count())) == RdKafka::ERR_NO_ERROR;
}

int Producer::queue_length() const { return producer_->outq_len(); }

Status Producer::ping(std::chrono::milliseconds timeout) {
  RdKafka::Metadata* md = nullptr;
  auto rc = producer_->metadata(true, nullptr, &md, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> guard(md);
  if (rc != RdKafka::ERR_NO_ERROR) return Error{"kafka-unreachable", RdKafka::err2str(rc), true};
  if (md->brokers()->empty()) return Error{"kafka-unreachable", "no brokers in metadata", true};
  return ok_status();
}

}  // namespace orderflow::kafka
