#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "libs/kafka/record.hpp"

// Per-key ordering through retries and the DLQ. A consumer that sends a record of key K to
// a retry topic or a DLQ "blocks" K; later records of K that reach the same consumer are
// parked (stored, their offsets committed) instead of handled, and handed to the handler
// in arrival order once the blocking record is resolved (decided after its retries, or
// replayed from the DLQ and decided). Other keys keep flowing.
namespace orderflow::kafka {

// Where blocked keys and parked records live. An implementation for production must be
// durable (the consumer's offset moves past a parked record: the store is its only copy);
// SqliteParkingStore is one, an in-memory fake does for unit tests.
class ParkingStore {
 public:
  virtual ~ParkingStore() = default;
  // Whether a record of `key` must wait: the key is blocked or has parked records. This is
  // the one lookup every record of a gated consumer costs.
  virtual bool holds(const std::string& key) = 0;
  virtual bool blocked(const std::string& key) = 0;
  // Blocks `key` with a reason (idempotent: an existing block keeps its first reason).
  virtual void block(const std::string& key, const std::string& reason) = 0;
  virtual void unblock(const std::string& key) = 0;
  // Appends `record` behind its key. The same record (topic, partition, offset) parked
  // twice — a redelivery after a crash — is kept once.
  virtual void park(const Record& record) = 0;
  // The oldest record parked behind `key`, if any.
  virtual std::optional<Record> first_parked(const std::string& key) = 0;
  // Every record parked behind `key`, oldest first (inspection).
  virtual std::vector<Record> parked(const std::string& key) = 0;
  // Drops a parked record once it was handled.
  virtual void remove(const Record& parked) = 0;
  // Every key that is blocked or has parked records (for the check at start-up).
  virtual std::vector<std::string> held_keys() = 0;
};

// The gate in front of a consumer's handler. Thread-safe: one gate may be shared by the
// consumers of a service (e.g. the main topic's and the retry topic's).
class KeyParking final {
 public:
  using Handler = std::function<void(const Record&)>;

  KeyParking(ParkingStore& store, Handler handler);

  // The ConsumerLoop handler of the gated topic. A record of a held key (blocked, or with
  // records parked before it) is parked, unless it is the blocking record coming back (a
  // DLQ replay, header dlq-replayed-from); any other record goes to the handler.
  void handle(const Record& record);

  // The handler sent the record of `key` in hand to a retry topic or a DLQ.
  void block(const std::string& key, const std::string& reason);
  // The blocking record of `key` is decided: unblocks it and hands its parked records to
  // the handler oldest first. If one of them blocks the key again, the rest stay parked
  // behind it. When the handler throws, the record stays parked (the key still holds) and
  // the caller's retry of its own record calls resolve() again. Cheap for a key that is
  // not held. Handlers must be idempotent (a crash between handling a parked record and
  // dropping it hands it on again).
  void resolve(const std::string& key);
  bool blocked(const std::string& key);
  // Whether a record of `key` might have to wait (no store lookup: a superset of the held
  // keys). A batch consumer sends such records through handle(), the others straight on.
  bool may_hold(const std::string& key);

  // At start-up: resolves every held key for which `is_resolved(key)` says its blocking
  // record was decided (a crash may have come between the decision and the release).
  void resolve_settled(const std::function<bool(const std::string&)>& is_resolved);

 private:
  // Whether `key` is blocked or has parked records; the caller holds mu_.
  bool holds_locked(const std::string& key);

  ParkingStore& store_;
  Handler handler_;
  std::mutex mu_;  // makes check-then-park and "nothing parked any more" atomic
  // Every key that may be held (a superset, kept in memory: the gate is the only writer of
  // its store), so the records of keys never held — nearly all — cost no store lookup.
  std::set<std::string> maybe_held_;
  std::set<std::string> draining_;  // keys whose parked records resolve() is handing on
};

}  // namespace orderflow::kafka
