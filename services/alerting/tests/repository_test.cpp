#include <gtest/gtest.h>

#include <filesystem>

#include "libs/common/ids.hpp"
#include "libs/storage/testing.hpp"
#include "services/alerting/repository/alert_repository.hpp"

namespace orderflow::alerting::repository {
namespace {

using std::chrono::milliseconds;

class AlertRepositoryTest : public ::testing::TestWithParam<storage::Backend> {
 protected:
  void SetUp() override { ORDERFLOW_SKIP_WITHOUT(tmp); }
  storage::testing::TestDatabase tmp{GetParam()};
};

domain::DlqEntry entry(std::string topic, std::int64_t offset, std::string reason,
                       std::string order) {
  domain::DlqEntry e;
  e.topic = std::move(topic);
  e.partition = 0;
  e.offset = offset;
  e.reason = std::move(reason);
  e.order_id = std::move(order);
  e.error_message = "boom";
  e.correlation_id = "corr-" + e.order_id;
  e.original_topic = "order-events";
  e.original_partition = 1;
  e.original_offset = 100 + offset;
  e.consumer_group = "payment-service";
  e.attempts = 5;
  return e;
}

TEST_P(AlertRepositoryTest, CountsEachRecordOnceInItsWindow) {
  storage::Database db(tmp.url(), tmp.schema());
  AlertRepository repo(db);
  ASSERT_TRUE(repo.ping().ok());
  const milliseconds window{60'000};

  auto first = repo.admit(entry("p.dlq", 0, "gw", "o-1"), 1'000, window);
  EXPECT_TRUE(first.inserted);
  EXPECT_EQ(first.group.count, 1);
  EXPECT_GT(first.group.id, 0);

  auto second = repo.admit(entry("p.dlq", 1, "gw", "o-2"), 2'000, window);
  EXPECT_TRUE(second.inserted);
  EXPECT_EQ(second.group.id, first.group.id);
  EXPECT_EQ(second.group.count, 2);

  auto again = repo.admit(entry("p.dlq", 1, "gw", "o-2"), 3'000, window);  // redelivered
  EXPECT_FALSE(again.inserted);
  EXPECT_EQ(again.alert_id, second.alert_id);
  EXPECT_EQ(again.group.count, 2);

  auto other_reason = repo.admit(entry("p.dlq", 2, "malformed-event", "o-3"), 3'000, window);
  EXPECT_NE(other_reason.group.id, first.group.id);
  EXPECT_EQ(other_reason.group.count, 1);

  auto next_window = repo.admit(entry("p.dlq", 3, "gw", "o-4"), 61'000, window);
  EXPECT_NE(next_window.group.id, first.group.id);
  EXPECT_EQ(next_window.group.count, 1);
}

TEST_P(AlertRepositoryTest, RemembersWhatWasSent) {
  storage::Database db(tmp.url(), tmp.schema());
  AlertRepository repo(db);
  auto a = repo.admit(entry("p.dlq", 0, "gw", "o-1"), 1'000, milliseconds(60'000));
  repo.mark_email(a.group.id, false, 1'000);
  repo.mark_webhook(a.group.id, "failed", 1'000);
  auto again = repo.admit(entry("p.dlq", 0, "gw", "o-1"), 2'000, milliseconds(60'000));
  EXPECT_FALSE(again.group.emailed);
  EXPECT_EQ(again.group.email_attempt_ms, 1'000);
  EXPECT_EQ(again.group.webhook, "failed");

  repo.mark_email(a.group.id, true, 40'000);
  repo.mark_webhook(a.group.id, "ok", 40'000);
  repo.mark_email(a.group.id, false, 50'000);       // "sent" is never undone
  repo.mark_webhook(a.group.id, "failed", 50'000);  // nor is "ok"
  auto listed = repo.list(std::nullopt, 10);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].group.emailed);
  EXPECT_EQ(listed[0].group.webhook, "ok");
}

TEST_P(AlertRepositoryTest, ListsNewestFirstWithGroupCounts) {
  {
    storage::Database db(tmp.url(), tmp.schema());
    AlertRepository repo(db);
    for (int i = 0; i < 4; ++i)
      repo.admit(entry("p.dlq", i, "gw", "o-" + std::to_string(i)), 1'000 + i,
                 milliseconds(60'000));
    repo.admit(entry("n.dlq", 0, "malformed-event", "o-1"), 2'000, milliseconds(60'000));
  }
  storage::Database db(tmp.url(), tmp.schema());
  AlertRepository repo(db);
  auto all = repo.list(std::nullopt, 100);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].entry.topic, "n.dlq");
  EXPECT_EQ(all[0].group.count, 1);
  EXPECT_EQ(all[1].entry.order_id, "o-3");
  EXPECT_EQ(all[1].group.count, 4);  // the group's count, on every alert of the group
  EXPECT_EQ(all[4].group.count, 4);
  EXPECT_EQ(all[4].time_ms, 1'000);
  EXPECT_EQ(all[4].entry.original_offset, 100);
  EXPECT_EQ(all[4].entry.attempts, 5);
  EXPECT_EQ(all[4].entry.correlation_id, "corr-o-0");

  auto one = repo.list(std::string("o-1"), 100);
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0].entry.topic, "n.dlq");
  EXPECT_EQ(one[1].entry.topic, "p.dlq");
  EXPECT_EQ(repo.list(std::nullopt, 2).size(), 2u);
}

ORDERFLOW_STORAGE_BACKENDS(AlertRepositoryTest);

}  // namespace
}  // namespace orderflow::alerting::repository
