#include "services/notification/handlers/notifications_handler.hpp"

#include "libs/common/time.hpp"
#include "libs/http/offload.hpp"
#include "libs/http/response.hpp"

namespace orderflow::notification::handlers {
namespace {

constexpr int kListLimit = 100;
constexpr std::size_t kMaxOrderId = 255;

}  // namespace

boost::json::array to_json(const std::vector<repository::Notification>& notifications) {
  boost::json::array out;
  for (const auto& n : notifications) {
    out.push_back({{"orderId", n.order_id},
                   {"outcome", domain::outcome_name(n.outcome)},
                   {"to", n.recipient},
                   {"subject", n.subject},
                   {"sentAt", iso8601_from_ms(n.sent_at_ms)},
                   {"channel", n.channel},
                   {"eventId", n.event_id},
                   {"correlationId", n.correlation_id}});
  }
  return out;
}

void add_routes(http::Router& router, boost::asio::thread_pool& blocking,
                repository::NotificationRepository& repo) {
  router.add(
      http::Verb::get, "/api/v1/notifications",
      [&blocking, &repo](http::RequestContext& ctx) -> http::asio::awaitable<http::Response> {
        auto order_id = ctx.query_param("orderId");
        if (order_id && order_id->empty()) order_id.reset();
        if (order_id && order_id->size() > kMaxOrderId) {
          co_return http::problem(http::Status::bad_request, "invalid-parameter", "Bad Request",
                                  "orderId is longer than 255 characters",
                                  {{"orderId", "too long"}});
        }
        auto query = [&repo, order_id] { return repo.list(order_id, kListLimit); };
        auto rows = co_await http::offload(blocking, query);
        co_return http::json_response(http::Status::ok, to_json(rows));
      });
}

}  // namespace orderflow::notification::handlers
