#include "services/alerting/clients/dlq_reader.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <memory>

namespace orderflow::alerting::clients {
namespace {

using Clock = std::chrono::steady_clock;

kafka::Record to_record(const RdKafka::Message& msg) {
  kafka::Record r;
  r.topic = msg.topic_name();
  r.partition = msg.partition();
  r.offset = msg.offset();
  r.timestamp_ms = msg.timestamp().timestamp;
  if (msg.key() != nullptr) r.key = *msg.key();
  if (msg.payload() != nullptr) r.value.assign(static_cast<const char*>(msg.payload()), msg.len());
  if (auto* h = const_cast<RdKafka::Message&>(msg).headers()) {
    for (const auto& hdr : h->get_all()) {
      r.headers.emplace_back(
          hdr.key(), hdr.value() != nullptr
                         ? std::string(static_cast<const char*>(hdr.value()), hdr.value_size())
                         : std::string());
    }
  }
  return r;
}

// Closes the consumer however the read ends. No group was joined and nothing is committed,
// so this is quick.
struct Closer final {
  RdKafka::KafkaConsumer* consumer;
  ~Closer() {
    consumer->unassign();
    consumer->close();
  }
};

}  // namespace

Result<DlqReader::Batch> DlqReader::read(const std::string& topic, const std::vector<Range>& ranges,
                                         std::size_t limit, const Keep& keep) const {
  Batch batch;
  if (limit == 0 || ranges.empty()) return batch;
  // group.id is required by the KafkaConsumer API; assign() never joins it and with
  // auto commit off nothing is ever committed under it.
  auto conf = config_.make_conf({{"group.id", client_id_},
                                 {"client.id", client_id_},
                                 {"enable.auto.commit", "false"},
                                 {"enable.auto.offset.store", "false"},
                                 {"enable.partition.eof", "true"},
                                 {"auto.offset.reset", "earliest"},
                                 {"allow.auto.create.topics", "false"},
                                 {"fetch.wait.max.ms", "100"}});
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) return Error{"kafka-unavailable", "cannot create a Kafka consumer: " + err, true};
  Closer closer{consumer.get()};

  const auto deadline = Clock::now() + timeout_;
  for (const auto& range : ranges) {
    if (range.start >= range.end) continue;
    std::unique_ptr<RdKafka::TopicPartition> tp(
        RdKafka::TopicPartition::create(topic, range.partition, range.start));
    std::vector<RdKafka::TopicPartition*> assignment{tp.get()};
    if (auto rc = consumer->assign(assignment); rc != RdKafka::ERR_NO_ERROR) {
      return Error{
          "kafka-unavailable",
          "assign " + topic + "[" + std::to_string(range.partition) + "]: " + RdKafka::err2str(rc),
          true};
    }
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        batch.complete = false;
        return batch;
      }
      std::unique_ptr<RdKafka::Message> msg(
          consumer->consume(static_cast<int>(std::min<std::int64_t>(left.count(), 200))));
      if (!msg) continue;
      auto code = msg->err();
      if (code == RdKafka::ERR__TIMED_OUT) continue;
      if (code == RdKafka::ERR__PARTITION_EOF) break;  // nothing more in this partition now
      if (code != RdKafka::ERR_NO_ERROR) {
        return Error{"kafka-unavailable",
                     topic + "[" + std::to_string(range.partition) + "]: " + msg->errstr(), true};
      }
      if (msg->partition() != range.partition || msg->offset() < range.start) continue;
      if (msg->offset() >= range.end) break;
      if (!keep || keep(range.partition, msg->offset())) {
        batch.records.push_back(to_record(*msg));
        if (batch.records.size() >= limit) return batch;
      }
      if (msg->offset() + 1 >= range.end) break;
    }
  }
  return batch;
}

}  // namespace orderflow::alerting::clients
