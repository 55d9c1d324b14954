#pragma once

#include "libs/http/router.hpp"
#include "services/payment_gateway/domain/faults.hpp"

namespace orderflow::payment_gateway {

// GET/POST/DELETE /admin/faults: read, partially update or switch off fault injection.
class AdminHandlers final {
 public:
  explicit AdminHandlers(FaultState& faults) : faults_(faults) {}

  void add_routes(http::Router& router);

  http::asio::awaitable<http::Response> get_faults(http::RequestContext& ctx);
  http::asio::awaitable<http::Response> update_faults(http::RequestContext& ctx);
  http::asio::awaitable<http::Response> clear_faults(http::RequestContext& ctx);

 private:
  FaultState& faults_;
};

}  // namespace orderflow::payment_gateway
