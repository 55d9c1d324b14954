#include "services/alerting/repository/replay_repository.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "libs/common/ids.hpp"
#include "libs/storage/testing.hpp"
#include "services/alerting/repository/alert_repository.hpp"

namespace orderflow::alerting::repository {
namespace {

class ReplayRepositoryTest : public ::testing::TestWithParam<storage::Backend> {
 protected:
  void SetUp() override { ORDERFLOW_SKIP_WITHOUT(tmp); }
  storage::testing::TestDatabase tmp{GetParam()};
};

domain::ReplayAudit audit(std::string topic, std::vector<domain::Position> offsets, bool dry_run) {
  domain::ReplayAudit a;
  a.time_ms = 1'000;
  a.who = "alice";
  a.topic = std::move(topic);
  a.offsets = std::move(offsets);
  a.dry_run = dry_run;
  a.count = static_cast<std::int64_t>(a.offsets.size());
  a.correlation_id = "corr";
  return a;
}

TEST_P(ReplayRepositoryTest, RecordsCallsAndRemembersRealReplaysOnly) {
  storage::Database db(tmp.url(), tmp.schema());
  AlertRepository alerts(db);  // both apply the same migrations, in either order
  ReplayRepository repo(db);

  auto dry = repo.record(audit("a.dlq", {{0, 1}, {0, 2}}, true));
  EXPECT_GT(dry.id, 0);
  EXPECT_TRUE(repo.replayed("a.dlq").empty());

  auto real = repo.record(audit("a.dlq", {{0, 2}, {1, 7}}, false));
  EXPECT_GT(real.id, dry.id);
  auto forced = repo.record(audit("a.dlq", {{0, 2}}, false));  // a forced second replay
  repo.record(audit("b.dlq", {{0, 1}}, false));
  EXPECT_EQ(repo.replayed("a.dlq"), (std::set<domain::Position>{{0, 2}, {1, 7}}));
  EXPECT_EQ(repo.replayed("b.dlq"), (std::set<domain::Position>{{0, 1}}));

  auto listed = repo.list(std::nullopt, 10);
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed[0].topic, "b.dlq");  // newest first
  EXPECT_EQ(listed[1].id, forced.id);
  EXPECT_EQ(listed[3].id, dry.id);
  EXPECT_TRUE(listed[3].dry_run);
  EXPECT_EQ(listed[3].who, "alice");
  EXPECT_EQ(listed[3].offsets, (std::vector<domain::Position>{{0, 1}, {0, 2}}));
  EXPECT_EQ(listed[3].count, 2);

  auto only_a = repo.list(std::string("a.dlq"), 2);
  ASSERT_EQ(only_a.size(), 2u);
  EXPECT_EQ(only_a[0].id, forced.id);
  EXPECT_EQ(only_a[1].id, real.id);
}

TEST_P(ReplayRepositoryTest, SurvivesAReopen) {
  {
    storage::Database db(tmp.url(), tmp.schema());
    ReplayRepository repo(db);
    repo.record(audit("a.dlq", {{2, 3}}, false));
  }
  storage::Database db(tmp.url(), tmp.schema());
  ReplayRepository repo(db);
  AlertRepository alerts(db);
  EXPECT_EQ(repo.replayed("a.dlq"), (std::set<domain::Position>{{2, 3}}));
  EXPECT_EQ(repo.list(std::nullopt, 5).size(), 1u);
}

ORDERFLOW_STORAGE_BACKENDS(ReplayRepositoryTest);

}  // namespace
}  // namespace orderflow::alerting::repository
