#include "libs/kafka/admin.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <memory>

namespace orderflow::kafka {

Status ensure_topics(Producer& producer, const std::vector<TopicSpec>& topics, std::chrono::milliseconds timeout) {
  rd_kafka_t* rk = producer.handle().c_ptr();
  char err[512];
  std::vector<rd_kafka_NewTopic_t*> news;
  for (const auto& t : topics) {
    auto* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, err, sizeof err);
    if (!nt) {
      for (auto* n : news) rd_kafka_NewTopic_destroy(n);
      return Error{"invalid-topic", err, false};
    }
    news.push_back(nt);
  }
  std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)> queue(rd_kafka_queue_new(rk),
                                                                           rd_kafka_queue_destroy);
  std::unique_ptr<rd_kafka_AdminOptions_t, decltype(&rd_kafka_AdminOptions_destroy)> options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS), rd_kafka_AdminOptions_destroy);
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), static_cast<int>(timeout.count()), err, sizeof err);
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), err, sizeof err);
  rd_kafka_CreateTopics(rk, news.data(), news.size(), options.get(), queue.get());
  for (auto* n : news) rd_kafka_NewTopic_destroy(n);

  std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)> ev(
      rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 1000), rd_kafka_event_destroy);
  if (!ev) return Error{"timeout", "CreateTopics got no answer", true};
  if (rd_kafka_event_error(ev.get())) {
    return Error{"create-topics-failed", rd_kafka_event_error_string(ev.get()), true};
  }
  const auto* result = rd_kafka_event_CreateTopics_result(ev.get());
  size_t n = 0;
  const auto** results = rd_kafka_CreateTopics_result_topics(result, &n);
  for (size_t i = 0; i < n; ++i) {
    auto code = rd_kafka_topic_result_error(results[i]);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      return Error{"create-topics-failed",
                   std::string(rd_kafka_topic_result_name(results[i])) + ": " + (msg ? msg : rd_kafka_err2str(code)),
                   true};
    }
  }
  return ok_status();
}

}  // namespace orderflow::kafka
