#include "services/payment/handlers/payment_handlers.hpp"

#include "libs/http/offload.hpp"
#include "libs/http/response.hpp"

namespace orderflow::payment {

void add_payment_routes(http::Router& router, PaymentRepository& repo, boost::asio::thread_pool& blocking) {
  router.add(http::Verb::get, "/api/v1/payments",
             [&repo, &blocking](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
               auto order_id = ctx.query_param("orderId");
               auto query = [&repo, order_id] { return repo.list(order_id, 100); };
               auto rows = co_await http::offload(blocking, query);
               boost::json::array out;
               for (const auto& r : rows) {
                 boost::json::object o{{"orderId", r.order_id}, {"status", r.status},     {"amount", r.amount},
                                       {"currency", r.currency}, {"attempts", r.attempts}, {"published", r.published},
                                       {"createdAt", r.created_at}};
                 if (!r.charge_id.empty()) o["chargeId"] = r.charge_id;
                 if (!r.reason.empty()) o["reason"] = r.reason;
                 out.push_back(std::move(o));
               }
               co_return http::json_response(http::Status::ok, out);
             });
}

}  // namespace orderflow::payment
