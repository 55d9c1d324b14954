#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libs/kafka/keyed_loop.hpp"

namespace orderflow::kafka {
namespace {

Record rec(std::string key, std::int64_t offset, std::int32_t partition = 0) {
  Record r;
  r.topic = "t";
  r.key = std::move(key);
  r.partition = partition;
  r.offset = offset;
  return r;
}

TEST(OffsetTracker, InOrderCompletionAdvancesOneByOne) {
  OffsetTracker t;
  t.started("t", 0, 10);
  t.started("t", 0, 11);
  EXPECT_EQ(t.finished("t", 0, 10), 11);
  EXPECT_EQ(t.finished("t", 0, 11), 12);
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, OutOfOrderCompletionWaitsForTheLowestInFlight) {
  OffsetTracker t;
  for (std::int64_t o = 0; o < 4; ++o) t.started("t", 0, o);
  EXPECT_EQ(t.finished("t", 0, 2), std::nullopt) << "0 is still in flight";
  EXPECT_EQ(t.finished("t", 0, 3), std::nullopt);
  EXPECT_EQ(t.finished("t", 0, 0), 1) << "1 is still in flight";
  EXPECT_EQ(t.finished("t", 0, 1), 4) << "everything below 4 is done";
}

TEST(OffsetTracker, PartitionsAreIndependent) {
  OffsetTracker t;
  t.started("t", 0, 5);
  t.started("t", 1, 7);
  t.started("u", 0, 9);
  EXPECT_EQ(t.finished("t", 1, 7), 8);
  EXPECT_EQ(t.finished("u", 0, 9), 10);
  EXPECT_EQ(t.finished("t", 0, 5), 6);
}

TEST(OffsetTracker, ARewindIsFollowedFromTheRewindPoint) {
  OffsetTracker t;
  for (std::int64_t o = 100; o < 106; ++o) t.started("t", 0, o);
  for (std::int64_t o = 101; o < 105; ++o) EXPECT_EQ(t.finished("t", 0, o), std::nullopt);
  // The partition is handed back from its committed offset 90 while 100 and 105 are in flight.
  t.started("t", 0, 90);
  EXPECT_EQ(t.finished("t", 0, 90), 91) << "never beyond what was polled since the rewind";
  t.started("t", 0, 91);
  EXPECT_EQ(t.finished("t", 0, 91), 92);
  EXPECT_EQ(t.finished("t", 0, 100), std::nullopt) << "105 is still in flight, 92 is next";
  EXPECT_EQ(t.finished("t", 0, 105), std::nullopt) << "92 was not polled yet";
}

TEST(OffsetTracker, TheSameOffsetTwiceInFlightNeedsBothDone) {
  OffsetTracker t;
  t.started("t", 0, 3);
  t.started("t", 0, 3);  // redelivered after a rebalance while the first copy runs
  EXPECT_EQ(t.finished("t", 0, 3), std::nullopt);
  EXPECT_EQ(t.finished("t", 0, 3), 4);
}

TEST(OffsetTracker, UnknownPartitionOrOffsetChangesNothing) {
  OffsetTracker t;
  EXPECT_EQ(t.finished("t", 0, 1), std::nullopt);
  t.started("t", 0, 1);
  EXPECT_EQ(t.finished("t", 0, 1), 2);
  EXPECT_EQ(t.finished("t", 0, 1), std::nullopt) << "nothing changed";
}

TEST(KeyedQueue, OneRecordPerKeyAtATimeInArrivalOrder) {
  KeyedQueue q;
  EXPECT_TRUE(q.push(rec("a", 0)));
  EXPECT_FALSE(q.push(rec("a", 1))) << "a is already ready";
  EXPECT_TRUE(q.push(rec("b", 2)));
  const Record* first = q.take();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->offset, 0);
  const Record* second = q.take();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->key, "b") << "a is held while its record runs";
  EXPECT_EQ(q.take(), nullptr);
  EXPECT_TRUE(q.done("a"));
  const Record* third = q.take();
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->offset, 1);
  EXPECT_FALSE(q.done("b"));
  EXPECT_FALSE(q.done("a"));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.has_ready());
}

TEST(KeyedQueue, AHeldKeyReceivingRecordsIsNotReadyTwice) {
  KeyedQueue q;
  q.push(rec("a", 0));
  const Record* held = q.take();
  ASSERT_NE(held, nullptr);
  EXPECT_FALSE(q.push(rec("a", 1))) << "held: handed out only after done()";
  EXPECT_EQ(q.take(), nullptr);
  EXPECT_EQ(held->offset, 0) << "the held record stays valid while its key grows";
  EXPECT_TRUE(q.done("a"));
  ASSERT_NE(q.take(), nullptr);
  EXPECT_EQ(q.take(), nullptr);
}

TEST(KeyedQueue, KeylessRecordsAreGroupedByPartition) {
  KeyedQueue q;
  EXPECT_TRUE(q.push(rec("", 0, 0)));
  EXPECT_FALSE(q.push(rec("", 1, 0)));
  EXPECT_TRUE(q.push(rec("", 2, 1)));
  EXPECT_NE(KeyedQueue::key_of(rec("", 0, 0)), KeyedQueue::key_of(rec("", 0, 1)));
  EXPECT_NE(KeyedQueue::key_of(rec("", 0, 0)), "");
}

}  // namespace
}  // namespace orderflow::kafka
