#pragma once

#include <boost/asio/thread_pool.hpp>
#include <vector>

#include "libs/http/router.hpp"
#include "services/alerting/domain/dlq_ops.hpp"
#include "services/alerting/operations/dlq_operations.hpp"
#include "services/alerting/repository/replay_repository.hpp"

namespace orderflow::alerting::handlers {

// The admin-only DLQ endpoints (SPEC §7). Each needs `Authorization: Bearer <token>`
// matching one of `tokens`: 401 without or with a wrong one, 403 when no token is
// configured at all.
//
// GET  /api/v1/dlq/{topic}/messages?limit=&offset=&partition=
//        -> {topic, partitions:[{partition, low, high}], limit, complete, records:[...]}
// POST /api/v1/dlq/{topic}/replay  {"offsets":[{"partition":0,"offset":12}]} | {"all":true},
//        "dryRun", "force"  -> what was (or would be) replayed, skipped, left
// GET  /api/v1/dlq/replays?topic=&limit=  -> the replay audit, newest first
struct DlqApiDeps final {
  boost::asio::thread_pool& blocking;
  operations::DlqOperations& operations;
  repository::ReplayRepository& replays;
  std::vector<domain::AdminToken> tokens;
  std::size_t max_value_bytes = 64 * 1024;  // browse output per record value
};
void add_dlq_routes(http::Router& router, DlqApiDeps deps);

}  // namespace orderflow::alerting::handlers
