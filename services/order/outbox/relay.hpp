#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "libs/kafka/handle_record.hpp"
#include "libs/kafka/producer.hpp"
#include "services/order/probe.hpp"
#include "services/order/repository/order_repository.hpp"

namespace orderflow::order {

// Publishes what the outbox holds, oldest first, and deletes each row only after Kafka
// acknowledged it (acks=all, idempotent producer). A crash between the two re-publishes
// the row on restart: consumers deduplicate by ce_id, so at-least-once here is
// exactly-once in effect.
//
// No thread of its own: notify() (a commit added rows) starts a round on `pool` — the
// service's blocking pool — unless one is under way, which then goes on for the new rows.
// A round publishes batches until the outbox is empty; a failed round (the broker down, a
// full disk) is tried again after a doubling back-off (100 ms .. 5 s), and a timer on the
// pool looks every 500 ms (a safety net: commits notify the relay directly).
class OutboxRelay final {
 public:
  OutboxRelay(OrderRepository& repo, kafka::Producer& producer, Probe& probe, boost::asio::thread_pool& pool);
  ~OutboxRelay();
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;
  // Starts the safety-net timer and a first round (rows left by an earlier run).
  void start();
  // Waits for the round under way, publishes what is pending (bounded wait) on the calling
  // thread, then stops: notify() does nothing after it. Idempotent.
  void stop();
  // Wakes the relay: rows were committed.
  void notify();

 private:
  // Publishes batches until the outbox is empty or a batch fails (on the pool).
  void round();
  // Returns true when the batch was full (more may be waiting).
  bool publish_batch();
  // The next look at the outbox in `after` (the safety net, or a failed round's back-off).
  void arm_timer_locked(std::chrono::milliseconds after);
  // True when the caller is to post a round (none under way, not stopping).
  bool start_round_locked();

  OrderRepository& repo_;
  kafka::Producer& producer_;
  Probe& probe_;
  boost::asio::thread_pool& pool_;
  boost::asio::steady_timer timer_;
  // Rows acknowledged by Kafka whose delete failed (a full disk): deleted before the next
  // batch is read, so they are not published again meanwhile (the round's thread only).
  std::vector<std::int64_t> published_not_removed_;
  std::optional<kafka::FailureLog> failures_;  // while rounds fail (the round's thread only)
  std::chrono::milliseconds backoff_{100};    // the round's thread only
  std::mutex mu_;
  std::condition_variable round_over_;
  bool started_ = false;
  bool stopping_ = false;
  bool in_round_ = false;  // a round is queued or under way on the pool
  bool pending_ = false;   // notified during the round: look again before it ends
  int armed_ = 0;          // timer waits whose handler has not run yet (stop() waits for them)
};

}  // namespace orderflow::order
