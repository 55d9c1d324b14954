#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libs/common/money.hpp"
#include "libs/common/result.hpp"
#include "libs/storage/database.hpp"
#include "libs/storage/group_commit.hpp"
#include "services/payment_gateway/domain/charge.hpp"

namespace orderflow::payment_gateway {

// A final answer stored under an idempotency key: a succeeded or a failed (declined) charge.
struct ChargeRecord final {
  std::string id;  // ch_<hex>
  std::string idempotency_key;
  std::string order_id;
  Money amount;
  std::string currency;
  std::string status;  // "succeeded" | "failed"
  std::string failure_code;          // failed only (Stripe's error.code)
  std::string failure_decline_code;  // failed only
  std::string failure_message;       // failed only
  std::int64_t created_ms = 0;
  int attempts = 0;  // processing attempts under the key (tok_flaky: 3)

  bool succeeded() const { return status == "succeeded"; }
};

// One processing attempt (not a replay, not an injected fault).
struct AttemptRecord final {
  std::string idempotency_key;
  std::string order_id;
  int attempt = 0;
  std::string outcome;  // "succeeded" | "declined" | "error"
  int http_status = 0;
  std::string code;
  std::optional<std::string> charge_id;
  std::int64_t created_ms = 0;
};

// What ChargeLedger::charge did.
struct LedgerOutcome final {
  KeyUse use = KeyUse::kFirst;
  int attempt = 0;                     // processing attempt number (kFirst/kRetry)
  ChargeDecision decision;             // kFirst/kRetry: what was decided
  std::optional<ChargeRecord> charge;  // the stored final answer (new or replayed)
};

// The gateway's ledger (SQLite, or PostgreSQL schema `payment_gateway`): idempotency keys (with their attempt counts), charges
// (the final answers) and an attempt log. Every method but charge_async is blocking and takes
// the database lock, so callers may use it from any thread (the service calls charge_async
// from its I/O threads, the rest on the blocking pool).
// Charges are group-committed (storage::GroupCommitter): concurrent charges share one
// transaction and one fsync, each in its own savepoint, and each caller is answered only
// once its charge is durable.
class ChargeLedger final {
 public:
  using Decide = std::function<ChargeDecision(int attempt)>;

  // Applies the schema migrations.
  explicit ChargeLedger(storage::Database& db);

  // In one transaction: looks the key up; on a parameter mismatch or a stored final answer
  // changes nothing; otherwise counts the attempt, asks `decide` for the outcome and, when
  // it is final, stores the charge under the key. Concurrent calls with the same key are
  // serialised, and a UNIQUE constraint on the key backs this up, so a key never has two
  // charges.
  LedgerOutcome charge(const std::string& idempotency_key, const ChargeRequest& request,
                       std::int64_t now_ms, const Decide& decide);
  // The same, without blocking: queued for the next group commit; `done(error, outcome)`
  // runs on the committer thread once the charge is durable (error: what kept it out). For
  // the HTTP I/O threads: no blocking-pool hop, and every charge in flight shares a commit.
  using ChargeDone = std::function<void(std::exception_ptr, LedgerOutcome)>;
  void charge_async(std::string idempotency_key, ChargeRequest request, std::int64_t now_ms, Decide decide,
                    ChargeDone done);

  // Newest first. An empty order_id lists every order.
  std::vector<ChargeRecord> charges(const std::string& order_id, int limit);
  std::optional<ChargeRecord> find(const std::string& charge_id);
  std::vector<AttemptRecord> attempts(const std::string& order_id, int limit);

  // SELECT 1 (health check).
  Status ping();

 private:
  LedgerOutcome charge_once(const std::string& key, const ChargeRequest& request,
                            std::int64_t now_ms, const Decide& decide);
  std::optional<ChargeRecord> find_locked(const std::string& charge_id);
  struct AsyncCharge;
  void submit_charge(std::shared_ptr<AsyncCharge> charge);

  storage::Database& db_;
  storage::GroupCommitter committer_;  // after db_: stopped (queue answered) before it goes
};

}  // namespace orderflow::payment_gateway
