#pragma once

#include <boost/asio/thread_pool.hpp>

#include "libs/http/router.hpp"
#include "services/payment/repository/payment_repository.hpp"

namespace orderflow::payment {

// GET /api/v1/payments?orderId= : what was decided for an order (for operators and tests).
void add_payment_routes(http::Router& router, PaymentRepository& repo, boost::asio::thread_pool& blocking);

}  // namespace orderflow::payment
