#pragma once

#include <vector>

#include "libs/auth/admin_tokens.hpp"
#include "libs/http/router.hpp"
#include "services/payment_gateway/domain/faults.hpp"

namespace orderflow::payment_gateway {

// GET/POST/DELETE /admin/faults: read, partially update or switch off fault injection.
// Operator endpoints: each call needs `Authorization: Bearer <admin token>` (the
// `admin-token` setting, as on alerting-service); without a configured token they are 403.
class AdminHandlers final {
 public:
  AdminHandlers(FaultState& faults, std::vector<auth::AdminToken> tokens)
      : faults_(faults), tokens_(std::move(tokens)) {}

  void add_routes(http::Router& router);

  http::asio::awaitable<http::Response> get_faults(http::RequestContext& ctx);
  http::asio::awaitable<http::Response> update_faults(http::RequestContext& ctx);
  http::asio::awaitable<http::Response> clear_faults(http::RequestContext& ctx);

 private:
  FaultState& faults_;
  std::vector<auth::AdminToken> tokens_;
};

}  // namespace orderflow::payment_gateway
