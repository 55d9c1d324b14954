#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <vector>

#include "libs/http/router.hpp"
#include "services/alerting/clients/dlq_inspector.hpp"
#include "services/alerting/repository/alert_repository.hpp"

namespace orderflow::alerting::handlers {

// GET /api/v1/alerts?orderId=&limit=  -> alerts, newest first (limit default 100, max 1000)
// GET /api/v1/dlq                     -> [{topic, depth, partitions}] of every *.dlq topic
void add_routes(http::Router& router, boost::asio::thread_pool& blocking,
                repository::AlertRepository& repo, clients::DlqInspector& inspector);

boost::json::array to_json(const std::vector<repository::Alert>& alerts);
boost::json::array to_json(const std::vector<clients::DlqTopic>& topics);

}  // namespace orderflow::alerting::handlers
