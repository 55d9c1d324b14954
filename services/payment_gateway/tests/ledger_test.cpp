// The ledger on each backend (and a temporary SQLite file for persistence): one
// charge per idempotency key, replays, attempt counting and the listings.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "libs/common/ids.hpp"
#include "libs/storage/testing.hpp"
#include "services/payment_gateway/repository/charge_ledger.hpp"

namespace orderflow::payment_gateway {
namespace {

ChargeRequest request(std::string order_id, std::string source, std::int64_t minor = 2500) {
  return {std::move(order_id), Money::from_minor(minor), "EUR", std::move(source)};
}

ChargeLedger::Decide real_decisions(const ChargeRequest& r) {
  return [source = r.source](int attempt) { return decide_charge(source, attempt); };
}

// A first charge's answer is built from what was written, not read back: it must say
// exactly what the ledger holds (and replays later).
void expect_as_stored(ChargeLedger& ledger, const ChargeRecord& answered) {
  auto stored = ledger.find(answered.id);
  ASSERT_TRUE(stored) << answered.id;
  EXPECT_EQ(stored->idempotency_key, answered.idempotency_key);
  EXPECT_EQ(stored->order_id, answered.order_id);
  EXPECT_EQ(stored->amount.minor(), answered.amount.minor());
  EXPECT_EQ(stored->currency, answered.currency);
  EXPECT_EQ(stored->status, answered.status);
  EXPECT_EQ(stored->failure_code, answered.failure_code);
  EXPECT_EQ(stored->failure_decline_code, answered.failure_decline_code);
  EXPECT_EQ(stored->failure_message, answered.failure_message);
  EXPECT_EQ(stored->created_ms, answered.created_ms);
  EXPECT_EQ(stored->attempts, answered.attempts);
}

class LedgerTest : public ::testing::TestWithParam<storage::Backend> {
 protected:
  void SetUp() override { ORDERFLOW_SKIP_WITHOUT(tmp_); }
  LedgerOutcome charge(const std::string& key, const ChargeRequest& r) {
    return ledger_.charge(key, r, ++clock_ms_, real_decisions(r));
  }

  storage::testing::TestDatabase tmp_{GetParam()};
  storage::Database db_{tmp_.available() ? tmp_.url() : ":memory:", tmp_.schema()};
  ChargeLedger ledger_{db_};
  std::int64_t clock_ms_ = 1'700'000'000'000;
};

TEST_P(LedgerTest, StoresASuccessAndReplaysIt) {
  auto r = request("o-1", "tok_visa");
  auto first = charge("o-1", r);
  EXPECT_EQ(first.use, KeyUse::kFirst);
  EXPECT_EQ(first.attempt, 1);
  ASSERT_TRUE(first.charge);
  EXPECT_TRUE(first.charge->succeeded());
  EXPECT_EQ(first.charge->id.rfind("ch_", 0), 0u);
  EXPECT_EQ(first.charge->amount.str(), "25.00");
  expect_as_stored(ledger_, *first.charge);

  auto again = charge("o-1", r);
  EXPECT_EQ(again.use, KeyUse::kReplay);
  ASSERT_TRUE(again.charge);
  EXPECT_EQ(again.charge->id, first.charge->id);
  EXPECT_EQ(again.charge->created_ms, first.charge->created_ms);
  EXPECT_EQ(ledger_.charges("o-1", 100).size(), 1u);
  EXPECT_EQ(ledger_.attempts("o-1", 100).size(), 1u);  // replays are not attempts
}

TEST_P(LedgerTest, SameKeyWithDifferentParametersIsAMismatchAndChangesNothing) {
  charge("k", request("o-1", "tok_visa"));
  auto other = charge("k", request("o-1", "tok_visa", 9999));
  EXPECT_EQ(other.use, KeyUse::kMismatch);
  EXPECT_FALSE(other.charge);
  auto list = ledger_.charges("o-1", 100);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].amount.minor(), 2500);
}

TEST_P(LedgerTest, DeclineIsStoredAsAFailedChargeAndReplayed) {
  auto r = request("o-2", "tok_chargeDeclinedInsufficientFunds");
  auto first = charge("o-2", r);
  ASSERT_TRUE(first.charge);
  EXPECT_EQ(first.charge->status, "failed");
  EXPECT_EQ(first.charge->failure_code, "insufficient_funds");
  EXPECT_EQ(first.charge->failure_decline_code, "insufficient_funds");
  expect_as_stored(ledger_, *first.charge);
  auto again = charge("o-2", r);
  EXPECT_EQ(again.use, KeyUse::kReplay);
  EXPECT_EQ(again.charge->id, first.charge->id);
  EXPECT_EQ(again.charge->failure_code, "insufficient_funds");
}

TEST_P(LedgerTest, ProcessingErrorsAreNeverFinal) {
  auto r = request("o-3", "tok_processingError");
  for (int i = 1; i <= 3; ++i) {
    auto out = charge("o-3", r);
    EXPECT_EQ(out.use, i == 1 ? KeyUse::kFirst : KeyUse::kRetry);
    EXPECT_EQ(out.attempt, i);
    EXPECT_EQ(out.decision.http_status, 500);
    EXPECT_FALSE(out.charge);
  }
  EXPECT_TRUE(ledger_.charges("o-3", 100).empty());
  auto attempts = ledger_.attempts("o-3", 100);
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].attempt, 3);  // newest first
  EXPECT_EQ(attempts[0].outcome, "error");
  EXPECT_EQ(attempts[0].code, "processing_error");
}

TEST_P(LedgerTest, FlakyCountsAttemptsPerKey) {
  auto r = request("o-4", "tok_flaky");
  EXPECT_EQ(charge("o-4", r).decision.http_status, 503);
  EXPECT_EQ(charge("o-4", r).decision.http_status, 503);
  auto third = charge("o-4", r);
  EXPECT_EQ(third.attempt, 3);
  ASSERT_TRUE(third.charge);
  EXPECT_TRUE(third.charge->succeeded());
  EXPECT_EQ(third.charge->attempts, 3);
  expect_as_stored(ledger_, *third.charge);
  EXPECT_EQ(charge("o-4", r).use, KeyUse::kReplay);

  // A different key starts its own count.
  auto other_key = request("o-5", "tok_flaky");
  EXPECT_EQ(charge("o-5", other_key).decision.http_status, 503);
}

TEST_P(LedgerTest, ListsNewestFirstByOrderOrAll) {
  charge("a", request("o-a", "tok_visa"));
  charge("b", request("o-b", "tok_chargeDeclined"));
  charge("c", request("o-a", "tok_mastercard"));
  auto a = ledger_.charges("o-a", 100);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].idempotency_key, "c");
  EXPECT_EQ(a[1].idempotency_key, "a");
  EXPECT_EQ(ledger_.charges("", 100).size(), 3u);
  EXPECT_EQ(ledger_.charges("", 2).size(), 2u);
  EXPECT_TRUE(ledger_.charges("nobody", 100).empty());
  auto found = ledger_.find(a[0].id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->order_id, "o-a");
  EXPECT_FALSE(ledger_.find("ch_missing"));
}

TEST_P(LedgerTest, ConcurrentCallsWithOneKeyMakeOneCharge) {
  auto r = request("o-c", "tok_visa");
  std::vector<std::thread> threads;
  std::vector<std::string> ids(16);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] {
      auto out = ledger_.charge("o-c", r, 1, real_decisions(r));
      if (out.charge) ids[i] = out.charge->id;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
  EXPECT_FALSE(ids[0].empty());
  EXPECT_EQ(ledger_.charges("o-c", 100).size(), 1u);
}

TEST_P(LedgerTest, PingAnswers) { EXPECT_TRUE(ledger_.ping().ok()); }

TEST_P(LedgerTest, TwoReplicasWithOneKeyMakeOneCharge) {
  storage::Database other_db(tmp_.url(), tmp_.schema());  // a second gateway process
  ChargeLedger other(other_db);
  for (int round = 0; round < 10; ++round) {
    const std::string key = "o-r" + std::to_string(round);
    auto r = request(key, "tok_visa");
    std::string a, b;
    std::thread ta([&] { a = ledger_.charge(key, r, 1, real_decisions(r)).charge->id; });
    std::thread tb([&] { b = other.charge(key, r, 1, real_decisions(r)).charge->id; });
    ta.join();
    tb.join();
    EXPECT_EQ(a, b) << key;
    EXPECT_EQ(ledger_.charges(key, 100).size(), 1u) << key;
  }
}

ORDERFLOW_STORAGE_BACKENDS(LedgerTest);

TEST(LedgerFile, SurvivesARestart) {
  auto path = std::filesystem::temp_directory_path() / ("payment-gateway-" + ids::uuid() + ".db");
  auto r = request("o-1", "tok_visa");
  std::string id;
  {
    storage::Database db(path.string());
    ChargeLedger ledger(db);
    id = ledger.charge("o-1", r, 1, real_decisions(r)).charge->id;
  }
  {
    storage::Database db(path.string());
    ChargeLedger ledger(db);  // migrations already applied: a no-op
    auto again = ledger.charge("o-1", r, 2, real_decisions(r));
    EXPECT_EQ(again.use, KeyUse::kReplay);
    EXPECT_EQ(again.charge->id, id);
  }
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

}  // namespace
}  // namespace orderflow::payment_gateway
