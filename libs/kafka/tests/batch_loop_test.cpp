#include "libs/kafka/batch_loop.hpp"
#include "libs/kafka/handle_record.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace orderflow::kafka {
namespace {

Record rec(std::string key, std::int32_t partition, std::int64_t offset, std::string topic = "t") {
  Record r;
  r.topic = std::move(topic);
  r.key = std::move(key);
  r.partition = partition;
  r.offset = offset;
  return r;
}

std::vector<std::size_t> all(const std::vector<Record>& batch) {
  std::vector<std::size_t> v(batch.size());
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(SplitWaves, EachKeyOncePerWaveInPolledOrder) {
  std::vector<Record> batch{rec("a", 0, 10), rec("b", 1, 5), rec("a", 0, 11), rec("c", 0, 12),
                            rec("a", 0, 13), rec("b", 1, 6)};
  auto waves = split_waves(batch, all(batch));
  ASSERT_EQ(waves.size(), 3u);
  EXPECT_EQ(waves[0], (std::vector<std::size_t>{0, 1, 3}));
  EXPECT_EQ(waves[1], (std::vector<std::size_t>{2, 5}));
  EXPECT_EQ(waves[2], (std::vector<std::size_t>{4}));
}

TEST(SplitWaves, KeylessRecordsKeepTheirPartitionsOrder) {
  std::vector<Record> batch{rec("", 0, 1), rec("", 1, 1), rec("", 0, 2)};
  auto waves = split_waves(batch, all(batch));
  ASSERT_EQ(waves.size(), 2u);
  EXPECT_EQ(waves[0], (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(waves[1], (std::vector<std::size_t>{2}));
}

TEST(SplitWaves, OnlyTheGivenRecords) {
  std::vector<Record> batch{rec("a", 0, 1), rec("a", 0, 2), rec("a", 0, 3)};
  auto waves = split_waves(batch, {0, 2});
  ASSERT_EQ(waves.size(), 2u);
  EXPECT_EQ(waves[0], (std::vector<std::size_t>{0}));
  EXPECT_EQ(waves[1], (std::vector<std::size_t>{2}));
  EXPECT_TRUE(split_waves(batch, {}).empty());
}

TEST(NextOffsets, EachPartitionMovesToItsFirstRecordNotDone) {
  std::vector<Record> batch{rec("a", 0, 10), rec("b", 1, 5), rec("a", 0, 11), rec("c", 0, 12), rec("b", 1, 6),
                            rec("x", 0, 3, "other")};
  // Partition 0: 10 done, 11 not, 12 done -> 11. Partition 1: all done -> 7. "other": not done -> 3.
  auto next = next_offsets(batch, {true, true, false, true, true, false});
  EXPECT_EQ(next.at({"t", 0}), 11);
  EXPECT_EQ(next.at({"t", 1}), 7);
  EXPECT_EQ(next.at({"other", 0}), 3);
  next = next_offsets(batch, std::vector<bool>(batch.size(), true));
  EXPECT_EQ(next.at({"t", 0}), 13);
  EXPECT_EQ(next.at({"other", 0}), 4);
}

TEST(FailureLog, LogsTheFirstFailureThenOncePerInterval) {
  FailureLog log;
  EXPECT_TRUE(log.failed()) << "the first failure is logged";
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(log.failed()) << "not every attempt within the interval";
  EXPECT_EQ(log.attempts(), 21);
  EXPECT_EQ(log.failing_for(), "0");
}

}  // namespace
}  // namespace orderflow::kafka
