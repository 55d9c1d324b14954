#pragma once

#include <functional>
#include <span>
#include <string>

#include "libs/kafka/batch_loop.hpp"
#include "libs/kafka/producer.hpp"
#include "libs/kafka/record.hpp"
#include "services/order/probe.hpp"
#include "services/order/repository/order_repository.hpp"

namespace orderflow::order {

// Consumes payment-events: PaymentSuccess / PaymentFailed set the order's final status and
// emit OrderConfirmed / OrderFailed through the outbox, in one transaction with the ce_id
// of the payment event (so a redelivery changes nothing). Undecodable records and payments
// for unknown orders go to order-service.dlq.
class PaymentEventsConsumer final {
 public:
  PaymentEventsConsumer(OrderRepository& repo, kafka::Producer& producer, Probe& probe, std::string group,
                        std::function<void()> on_committed);
  // A wave of a poll batch (distinct orders): every payment applied in one transaction, the
  // DLQ records produced together; returns once all is durable and acknowledged. Throws
  // (the wave is tried again) while the database or the broker fails.
  void handle_batch(std::span<const kafka::Delivery> wave);

 private:
  OrderRepository& repo_;
  kafka::Producer& producer_;
  Probe& probe_;
  std::string group_;
  std::function<void()> on_committed_;
};

}  // namespace orderflow::order
