#include <gtest/gtest.h>

#include "libs/storage/testing.hpp"
#include "services/payment/repository/payment_repository.hpp"

namespace orderflow::payment {
namespace {

class PaymentRepositoryTest : public ::testing::TestWithParam<storage::Backend> {
 protected:
  void SetUp() override { ORDERFLOW_SKIP_WITHOUT(tmp); }
  storage::testing::TestDatabase tmp{GetParam()};
};

TEST_P(PaymentRepositoryTest, RecordsOnceAndKeepsTheExactRecords) {
  {
    PaymentRepository repo(tmp.url(), tmp.schema());
    PaymentRow row;
    row.order_id = "o-1";
    row.event_id = "e-1";
    row.status = "SUCCEEDED";
    row.charge_id = "ch_1";
    row.amount = "25.00";
    row.currency = "EUR";
    row.attempts = 2;
    row.created_at = "t";
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

ORDERFLOW_STORAGE_BACKENDS(PaymentRepositoryTest);

}  // namespace
}  // namespace orderflow::payment
