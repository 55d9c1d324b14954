#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "libs/storage/testing.hpp"
#include "services/payment/repository/payment_repository.hpp"

namespace orderflow::payment {
namespace {

PaymentRow make_row(const std::string& order_id, const std::string& status, const std::string& reason = {}) {
  PaymentRow row;
  row.order_id = order_id;
  row.event_id = "e-" + order_id;
  row.status = status;
  row.reason = reason;
  row.amount = "25.00";
  row.currency = "EUR";
  row.created_at = "t";
  return row;
}

class PaymentRepositoryTest : public ::testing::TestWithParam<storage::Backend> {
 protected:
  void SetUp() override { ORDERFLOW_SKIP_WITHOUT(tmp); }
  storage::testing::TestDatabase tmp{GetParam()};
};

TEST_P(PaymentRepositoryTest, RecordsOnceAndKeepsTheExactRecords) {
  {
    PaymentRepository repo(tmp.url(), tmp.schema());
    auto row = make_row("o-1", "SUCCEEDED");
    row.charge_id = "ch_1";
    row.attempts = 2;
    row.records.push_back({"payment-events", "o-1", R"({"orderId":"o-1"})", {{"ce_id", "p-1"}, {"ce_type", "PaymentSuccess"}}});
    EXPECT_TRUE(repo.record(row));
    auto second = row;
    second.status = "FAILED";
    EXPECT_FALSE(repo.record(second)) << "the first decision stands";

    auto found = repo.find("o-1");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->status, "SUCCEEDED");
    EXPECT_FALSE(found->published);
    ASSERT_EQ(found->records.size(), 1u);
    EXPECT_EQ(found->records[0].header("ce_id"), "p-1");
    EXPECT_EQ(found->records[0].value, R"({"orderId":"o-1"})");
    repo.mark_published("o-1");
    EXPECT_TRUE(repo.find("o-1")->published);
    EXPECT_EQ(repo.list(std::nullopt, 10).size(), 1u);
    EXPECT_FALSE(repo.find("o-2"));
  }
}

TEST_P(PaymentRepositoryTest, AReplayReplacesOnlyAGatewayUnavailableFailureOncePerKey) {
  {
    PaymentRepository repo(tmp.url(), tmp.schema());
    auto failed = make_row("o-1", "FAILED", "payment-gateway-unavailable");
    ASSERT_TRUE(repo.record(failed));
    repo.mark_published("o-1");

    auto success = failed;
    success.status = "SUCCEEDED";
    success.reason.clear();
    success.charge_id = "ch_1";
    success.records.push_back({"payment-events", "o-1", "{}", {{"ce_id", "p-2"}}});
    EXPECT_FALSE(repo.replay_seen("e-1|dlq:0:7"));
    EXPECT_TRUE(repo.record_replay(success, "e-1|dlq:0:7"));
    EXPECT_TRUE(repo.replay_seen("e-1|dlq:0:7"));
    auto found = repo.find("o-1");
    EXPECT_EQ(found->status, "SUCCEEDED");
    EXPECT_EQ(found->charge_id, "ch_1");
    EXPECT_FALSE(found->published) << "the new outcome still has to be announced";
    ASSERT_EQ(found->records.size(), 1u);
    EXPECT_FALSE(repo.record_replay(success, "e-1|dlq:0:9")) << "no longer a gateway-unavailable failure";
    EXPECT_FALSE(repo.replay_seen("e-1|dlq:0:9")) << "a refused replay leaves its key unused";

    ASSERT_TRUE(repo.record(make_row("o-2", "FAILED", "card_declined")));
    auto flip = success;
    flip.order_id = "o-2";
    EXPECT_FALSE(repo.record_replay(flip, "e-2|dlq:0:8"));
    EXPECT_EQ(repo.find("o-2")->status, "FAILED");
  }
}

TEST_P(PaymentRepositoryTest, ConcurrentWritersEachGetTheirOwnAnswerAndTheFirstDecisionStands) {
  constexpr int kOrders = 40;
  std::vector<std::atomic<int>> wins(kOrders);
  {
    PaymentRepository repo(tmp.url(), tmp.schema());
    // Two writers per order (a rebalance mid-charge): exactly one record() wins each order.
    std::vector<std::thread> writers;
    for (int w = 0; w < 2 * kOrders; ++w) {
      writers.emplace_back([&, w] {
        const int order = w / 2;
        auto row = make_row("o-" + std::to_string(order), w % 2 ? "SUCCEEDED" : "DECLINED");
        if (repo.record(row)) {
          ++wins[order];
          repo.mark_published(row.order_id);
        }
      });
    }
    for (auto& t : writers) t.join();
  }
  PaymentRepository reopened(tmp.url(), tmp.schema());  // what was committed
  for (int order = 0; order < kOrders; ++order) {
    EXPECT_EQ(wins[order].load(), 1) << "order " << order;
    auto found = reopened.find("o-" + std::to_string(order));
    ASSERT_TRUE(found);
    EXPECT_TRUE(found->published);
  }
}

ORDERFLOW_STORAGE_BACKENDS(PaymentRepositoryTest);

}  // namespace
}  // namespace orderflow::payment
