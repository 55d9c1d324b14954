#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "libs/common/ids.hpp"
#include "libs/storage/testing.hpp"
#include "services/notification/repository/notification_repository.hpp"

namespace orderflow::notification::repository {
namespace {

class NotificationRepositoryTest : public ::testing::TestWithParam<storage::Backend> {
 protected:
  void SetUp() override { ORDERFLOW_SKIP_WITHOUT(tmp); }
  storage::testing::TestDatabase tmp{GetParam()};
};

Notification note(std::string order, domain::Outcome outcome, std::string event, std::int64_t at) {
  return Notification{std::move(order), outcome,          "ann@example.com", "subject",
                      "smtp",           std::move(event), "corr-1",          at};
}

TEST_P(NotificationRepositoryTest, RecordsOncePerOrderOutcomeAndPerEvent) {
  storage::Database db(tmp.url(), tmp.schema());
  NotificationRepository repo(db);
  ASSERT_TRUE(repo.ping().ok());

  auto known = repo.lookup("e-1", "o-1", domain::Outcome::kConfirmed);
  EXPECT_FALSE(known.event_recorded);
  EXPECT_FALSE(known.outcome_recorded);

  EXPECT_TRUE(repo.record(note("o-1", domain::Outcome::kConfirmed, "e-1", 1000)));
  EXPECT_FALSE(repo.record(note("o-1", domain::Outcome::kConfirmed, "e-1", 1001)));  // same event
  EXPECT_FALSE(repo.record(note("o-1", domain::Outcome::kConfirmed, "e-2", 1002)));  // same outcome
  EXPECT_TRUE(
      repo.record(note("o-1", domain::Outcome::kFailed, "e-3", 1003)));  // the other outcome

  known = repo.lookup("e-1", "o-1", domain::Outcome::kConfirmed);
  EXPECT_TRUE(known.event_recorded);
  EXPECT_TRUE(known.outcome_recorded);
  known = repo.lookup("e-9", "o-1", domain::Outcome::kConfirmed);
  EXPECT_FALSE(known.event_recorded);
  EXPECT_TRUE(known.outcome_recorded);
  known = repo.lookup("e-9", "o-2", domain::Outcome::kConfirmed);
  EXPECT_FALSE(known.outcome_recorded);
}

TEST_P(NotificationRepositoryTest, ListsNewestFirstAndFiltersByOrder) {
  {
    storage::Database db(tmp.url(), tmp.schema());
    NotificationRepository repo(db);
    for (int i = 0; i < 5; ++i) {
      repo.record(note("o-" + std::to_string(i), domain::Outcome::kConfirmed,
                       "e-" + std::to_string(i), 1000 + i));
    }
  }
  storage::Database db(tmp.url(), tmp.schema());  // reopened: the rows are on disk, migrations not re-run
  NotificationRepository repo(db);
  auto all = repo.list(std::nullopt, 3);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].order_id, "o-4");
  EXPECT_EQ(all[2].order_id, "o-2");
  auto one = repo.list(std::string("o-1"), 100);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].event_id, "e-1");
  EXPECT_EQ(one[0].outcome, domain::Outcome::kConfirmed);
  EXPECT_EQ(one[0].recipient, "ann@example.com");
  EXPECT_EQ(one[0].channel, "smtp");
  EXPECT_EQ(one[0].correlation_id, "corr-1");
  EXPECT_EQ(one[0].sent_at_ms, 1001);
  EXPECT_TRUE(repo.list(std::string("nope"), 100).empty());
}

TEST_P(NotificationRepositoryTest, ConcurrentRecordsOfOneOutcomeKeepOne) {
  constexpr int kOrders = 30;
  std::vector<std::atomic<int>> recorded(kOrders);
  {
    storage::Database db(tmp.url(), tmp.schema());
    NotificationRepository repo(db);
    // Two events per order outcome (a redelivery under another ce_id), recorded at once.
    std::vector<std::thread> workers;
    for (int w = 0; w < 2 * kOrders; ++w) {
      workers.emplace_back([&, w] {
        if (repo.record(note("o-" + std::to_string(w / 2), domain::Outcome::kConfirmed, "e-" + std::to_string(w),
                             1000 + w))) {
          ++recorded[w / 2];
        }
      });
    }
    for (auto& t : workers) t.join();
  }
  storage::Database db(tmp.url(), tmp.schema());  // reopened: what was committed
  NotificationRepository repo(db);
  EXPECT_EQ(repo.list(std::nullopt, 1000).size(), std::size_t{kOrders});
  for (int i = 0; i < kOrders; ++i) EXPECT_EQ(recorded[i].load(), 1) << i;
}

ORDERFLOW_STORAGE_BACKENDS(NotificationRepositoryTest);

}  // namespace
}  // namespace orderflow::notification::repository
