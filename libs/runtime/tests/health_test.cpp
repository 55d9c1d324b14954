#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "libs/runtime/health.hpp"

namespace orderflow::runtime {
namespace {

TEST(Health, DownUntilCheckedThenReflectsChecks) {
  HealthMonitor m;
  std::atomic<bool> kafka_up{true};
  m.add("kafka", [&]() -> Status {
    if (kafka_up) return ok_status();
    return Error{"kafka-unreachable", "broker down", true};
  });
  m.add("db", [] { return ok_status(); });
  EXPECT_FALSE(m.up());
  m.check_now();
  EXPECT_TRUE(m.up());
  EXPECT_EQ(m.report().at("status").as_string(), "UP");
  kafka_up = false;
  m.check_now();
  EXPECT_FALSE(m.up());
  auto r = m.report();
  EXPECT_EQ(r.at("status").as_string(), "DOWN");
  EXPECT_EQ(r.at("components").at("kafka").at("status").as_string(), "DOWN");
  EXPECT_EQ(r.at("components").at("db").at("status").as_string(), "UP");
  EXPECT_EQ(r.at("components").at("kafka").at("details").at("error").as_string(), "broker down");
  EXPECT_EQ(r.at("components").at("kafka").at("details").at("code").as_string(), "kafka-unreachable");
}

TEST(Health, DetailsAreReportedAsUpComponents) {
  HealthMonitor m;
  std::string state = "CLOSED";
  m.add_details("circuitBreaker", [&] { return boost::json::object{{"state", state}}; });
  m.check_now();
  EXPECT_TRUE(m.up());
  state = "OPEN";
  auto r = m.report();
  EXPECT_EQ(r.at("components").at("circuitBreaker").at("details").at("state").as_string(), "OPEN");
  EXPECT_EQ(r.at("status").as_string(), "UP");
}

TEST(Health, ThrowingCheckIsDown) {
  HealthMonitor m;
  m.add("db", []() -> Status { throw std::runtime_error("disk gone"); });
  m.check_now();
  EXPECT_FALSE(m.up());
}

// No thread of its own: rounds are timed on the io_context and run on the blocking pool.
TEST(Health, RoundsRunOnThePoolUntilStopped) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  boost::asio::thread_pool pool(1);
  std::thread io_thread([&] { io.run(); });
  std::mutex mu;
  std::set<std::thread::id> where;
  std::atomic<int> rounds{0};
  std::atomic<int> in_round{0};
  std::atomic<bool> overlapped{false};
  HealthMonitor m(std::chrono::milliseconds(5));
  m.add("db", [&] {
    if (in_round++ > 0) overlapped = true;
    {
      std::lock_guard lock(mu);
      where.insert(std::this_thread::get_id());
    }
    ++rounds;
    --in_round;
    return ok_status();
  });
  m.start(io, pool);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (rounds < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  m.stop();
  EXPECT_GE(rounds.load(), 3);
  EXPECT_TRUE(m.up());
  EXPECT_FALSE(overlapped.load());
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(where.size(), 1u);  // the pool's one thread
    EXPECT_FALSE(where.contains(io_thread.get_id()));
    EXPECT_FALSE(where.contains(std::this_thread::get_id()));
  }
  guard.reset();
  io.stop();
  io_thread.join();
  pool.join();
}

}  // namespace
}  // namespace orderflow::runtime
