#include "services/alerting/handlers/alert_handlers.hpp"

#include <charconv>
#include <optional>

#include "libs/common/time.hpp"
#include "libs/http/offload.hpp"
#include "libs/http/response.hpp"

namespace orderflow::alerting::handlers {
namespace {

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 1000;
constexpr std::size_t kMaxOrderId = 255;

http::Response invalid(std::string_view field, std::string_view detail) {
  std::vector<http::FieldError> errors{{std::string(field), std::string(detail)}};
  return http::problem(http::Status::bad_request, "invalid-parameter", "Bad Request", detail,
                       errors);
}

}  // namespace

boost::json::array to_json(const std::vector<repository::Alert>& alerts) {
  boost::json::array out;
  for (const auto& a : alerts) {
    const auto& e = a.entry;
    out.push_back({{"id", a.id},
                   {"time", iso8601_from_ms(a.time_ms)},
                   {"topic", e.topic},
                   {"reason", e.reason},
                   {"orderId", e.order_id},
                   {"count", a.group.count},
                   {"windowStart", iso8601_from_ms(a.group.window_start_ms)},
                   {"errorMessage", e.error_message},
                   {"correlationId", e.correlation_id},
                   {"eventType", e.event_type},
                   {"originalTopic", e.original_topic},
                   {"originalPartition", e.original_partition},
                   {"originalOffset", e.original_offset},
                   {"consumerGroup", e.consumer_group},
                   {"attempts", e.attempts},
                   {"partition", e.partition},
                   {"offset", e.offset},
                   {"emailed", a.group.emailed},
                   {"webhook", a.group.webhook}});
  }
  return out;
}

boost::json::array to_json(const std::vector<clients::DlqTopic>& topics) {
  boost::json::array out;
  for (const auto& t : topics)
    out.push_back({{"topic", t.topic}, {"depth", t.depth}, {"partitions", t.partitions}});
  return out;
}

void add_routes(http::Router& router, boost::asio::thread_pool& blocking,
                repository::AlertRepository& repo, clients::DlqInspector& inspector) {
  router.add(
      http::Verb::get, "/api/v1/alerts",
      [&blocking, &repo](http::RequestContext& ctx) -> http::asio::awaitable<http::Response> {
        auto order_id = ctx.query_param("orderId");
        if (order_id && order_id->empty()) order_id.reset();
        if (order_id && order_id->size() > kMaxOrderId)
          co_return invalid("orderId", "orderId is too long");
        int limit = kDefaultLimit;
        if (auto raw = ctx.query_param("limit")) {
          auto [ptr, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), limit);
          if (ec != std::errc() || ptr != raw->data() + raw->size() || limit < 1 ||
              limit > kMaxLimit) {
            co_return invalid("limit", "limit must be an integer from 1 to 1000");
          }
        }
        auto query = [&repo, order_id, limit] { return repo.list(order_id, limit); };
        auto rows = co_await http::offload(blocking, query);
        co_return http::json_response(http::Status::ok, to_json(rows));
      });
  router.add(
      http::Verb::get, "/api/v1/dlq",
      [&blocking, &inspector](http::RequestContext&) -> http::asio::awaitable<http::Response> {
        // co_spawn needs a default-constructible result, which Result<T> is not.
        auto query = [&inspector] {
          return std::optional<Result<std::vector<clients::DlqTopic>>>(inspector.topics());
        };
        auto topics = co_await http::offload(blocking, query);
        if (!topics->ok()) {
          co_return http::problem(http::Status::service_unavailable, "kafka-unavailable",
                                  "Service Unavailable", topics->error().message);
        }
        co_return http::json_response(http::Status::ok, to_json(topics->value()));
      });
}

}  // namespace orderflow::alerting::handlers
