#include "libs/common/work_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace orderflow {
namespace {

TEST(WorkPool, RunsEveryIndexOnceAcrossTheCallerAndThePool) {
  WorkPool pool(3, "test-pool");
  EXPECT_EQ(pool.started(), 0u) << "no thread before there is work to share";
  std::vector<std::atomic<int>> hits(1000);
  std::mutex mu;
  std::set<std::thread::id> threads;
  pool.for_each(hits.size(), [&](std::size_t i) {
    ++hits[i];
    std::lock_guard lock(mu);
    threads.insert(std::this_thread::get_id());
  });
  for (const auto& h : hits) EXPECT_EQ(h.load(), 1);
  EXPECT_TRUE(threads.contains(std::this_thread::get_id())) << "the caller takes a share";
  EXPECT_GT(threads.size(), 1u);
  EXPECT_LE(threads.size(), 4u);
  EXPECT_EQ(pool.started(), 3u);
}

TEST(WorkPool, OneItemOrNoThreadsRunOnTheCaller) {
  WorkPool pool(2, "test-pool");
  std::thread::id ran;
  pool.for_each(1, [&](std::size_t) { ran = std::this_thread::get_id(); });
  EXPECT_EQ(ran, std::this_thread::get_id());
  EXPECT_EQ(pool.started(), 0u) << "one item shares nothing: no thread started for it";
  WorkPool none(0, "test-pool");
  std::set<std::thread::id> threads;
  none.for_each(10, [&](std::size_t) { threads.insert(std::this_thread::get_id()); });
  EXPECT_EQ(threads, std::set<std::thread::id>{std::this_thread::get_id()});
  pool.for_each(0, [](std::size_t) { FAIL() << "nothing to run"; });
}

TEST(WorkPool, RethrowsAfterEveryChunkFinished) {
  WorkPool pool(2, "test-pool");
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.for_each(30,
                             [&](std::size_t i) {
                               ++ran;
                               if (i == 25) throw std::runtime_error("boom");
                             }),
               std::runtime_error);
  // The chunk that threw stops at its failing index; the other chunks run to the end.
  EXPECT_GE(ran.load(), 26);
  pool.for_each(4, [&](std::size_t) { ++ran; });  // still usable
}

}  // namespace
}  // namespace orderflow
