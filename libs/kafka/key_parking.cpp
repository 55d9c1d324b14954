#include "libs/kafka/key_parking.hpp"

#include "libs/kafka/dlq.hpp"
#include "libs/observability/log.hpp"

namespace orderflow::kafka {

KeyParking::KeyParking(ParkingStore& store, Handler handler) : store_(store), handler_(std::move(handler)) {
  for (auto& key : store_.held_keys()) maybe_held_.insert(std::move(key));
}

bool KeyParking::holds_locked(const std::string& key) {
  if (!maybe_held_.contains(key)) return false;  // the common case: no store lookup
  if (store_.holds(key)) return true;
  maybe_held_.erase(key);
  return false;
}

void KeyParking::handle(const Record& record) {
  {
    std::lock_guard lock(mu_);
    if (!record.header(kReplayedFromHeader) && holds_locked(record.key)) {
      store_.park(record);
      log::info("record parked behind an earlier record of its key",
                {{"key", record.key}, {"topic", record.topic}, {"partition", std::to_string(record.partition)},
                 {"offset", std::to_string(record.offset)}});
      return;
    }
  }
  handler_(record);
}

void KeyParking::block(const std::string& key, const std::string& reason) {
  std::lock_guard lock(mu_);
  store_.block(key, reason);
  maybe_held_.insert(key);
}

bool KeyParking::may_hold(const std::string& key) {
  std::lock_guard lock(mu_);
  return maybe_held_.contains(key);
}

bool KeyParking::blocked(const std::string& key) {
  std::lock_guard lock(mu_);
  return maybe_held_.contains(key) && store_.blocked(key);
}

void KeyParking::resolve(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    // Already being drained — by another thread, or by this one further up the stack (a
    // parked record handed on whose handler resolves its key again): that drain goes on.
    if (draining_.count(key) || !holds_locked(key)) return;
    draining_.insert(key);
    store_.unblock(key);
  }
  for (;;) {
    std::optional<Record> next;
    {
      std::lock_guard lock(mu_);
      // Blocked again: a record handed on below went to a retry or the DLQ. Nothing parked:
      // from now on records of the key go straight to the handler. Either way the drain
      // ends in the same critical section that decided it.
      if (!store_.blocked(key)) next = store_.first_parked(key);
      if (!next) {
        draining_.erase(key);
        if (!store_.blocked(key)) maybe_held_.erase(key);
        return;
      }
    }
    try {
      handler_(*next);
    } catch (...) {
      std::lock_guard lock(mu_);
      draining_.erase(key);  // the record stays parked: the next resolve() hands it on
      throw;
    }
    std::lock_guard lock(mu_);
    store_.remove(*next);
  }
}

void KeyParking::resolve_settled(const std::function<bool(const std::string&)>& is_resolved) {
  for (const auto& key : store_.held_keys()) {
    if (is_resolved(key)) resolve(key);
  }
}

}  // namespace orderflow::kafka
