#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>

#include "libs/auth/authenticator.hpp"
#include "libs/auth/rate_limiter.hpp"
#include "libs/http/router.hpp"
#include "services/order/probe.hpp"
#include "services/order/repository/order_repository.hpp"

namespace orderflow::order {

// HTTP adapters of SPEC §2: decode, call the domain and the repository (reads on the blocking
// pool, new orders through the repository's group commit), map the outcome to a response.
// Every route authenticates its caller (auth::Authenticator: API key or JWT; in demo mode
// everyone is an admin) and rate-limits it per client (per principal, or per IP address
// when unauthenticated): 401 / 429 problems. A customer places and sees only its own
// orders: another customer's order is a 404, as if it did not exist.
struct OrderApiDeps final {
  OrderRepository& repo;
  const auth::Authenticator& auth;
  auth::RateLimiter& limiter;
  boost::asio::thread_pool& blocking;
  Probe& probe;
  std::function<void()> on_committed;  // wakes the outbox relay
  std::string service_name = "order-service";
};

void add_order_routes(http::Router& router, OrderApiDeps deps);

}  // namespace orderflow::order
