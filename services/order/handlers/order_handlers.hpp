#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>

#include "libs/http/router.hpp"
#include "services/order/probe.hpp"
#include "services/order/repository/order_repository.hpp"

namespace orderflow::order {

// HTTP adapters of SPEC §2: decode, call the domain and the repository (reads on the blocking
// pool, new orders through the repository's group commit), map the outcome to a response.
struct OrderApiDeps final {
  OrderRepository& repo;
  boost::asio::thread_pool& blocking;
  Probe& probe;
  std::function<void()> on_committed;  // wakes the outbox relay
  std::string service_name = "order-service";
};

void add_order_routes(http::Router& router, OrderApiDeps deps);

}  // namespace orderflow::order
