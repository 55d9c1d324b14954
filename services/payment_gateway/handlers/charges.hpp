#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>

#include "libs/http/router.hpp"
#include "services/payment_gateway/domain/faults.hpp"
#include "services/payment_gateway/probe.hpp"
#include "services/payment_gateway/repository/charge_ledger.hpp"

namespace orderflow::payment_gateway {

// POST /v1/charges, GET /v1/charges[?orderId=&limit=], GET /v1/charges/{id},
// GET /v1/attempts[?orderId=&limit=]. Decode, call the domain and the ledger (on the
// blocking pool), map the result; nothing else.
class ChargeHandlers final {
 public:
  struct Options {
    // How long tok_slow holds its answer back (longer than the payment client's timeout).
    std::chrono::milliseconds slow_delay{3000};
  };

  ChargeHandlers(ChargeLedger& ledger, boost::asio::thread_pool& pool, const FaultState& faults,
                 Probe& probe, Options options);

  void add_routes(http::Router& router);

  http::asio::awaitable<http::Response> create(http::RequestContext& ctx);
  http::asio::awaitable<http::Response> list(http::RequestContext& ctx);
  http::asio::awaitable<http::Response> retrieve(http::RequestContext& ctx);
  http::asio::awaitable<http::Response> list_attempts(http::RequestContext& ctx);

 private:
  // Injected fault: the charge is committed, the answer replaced by a connection reset.
  http::Response reset_connection(const std::string& order_id, const std::string& key,
                                  const std::string& correlation_id);
  ChargeLedger& ledger_;
  boost::asio::thread_pool& pool_;
  const FaultState& faults_;
  Probe& probe_;
  Options options_;
};

}  // namespace orderflow::payment_gateway
