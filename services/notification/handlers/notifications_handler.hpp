#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <vector>

#include "libs/http/router.hpp"
#include "services/notification/repository/notification_repository.hpp"

namespace orderflow::notification::handlers {

// GET /api/v1/notifications?orderId=  -> [{orderId, outcome, to, subject, sentAt, channel,
// eventId, correlationId}], newest first: one order's, or the latest 100.
void add_routes(http::Router& router, boost::asio::thread_pool& blocking,
                repository::NotificationRepository& repo);

boost::json::array to_json(const std::vector<repository::Notification>& notifications);

}  // namespace orderflow::notification::handlers
