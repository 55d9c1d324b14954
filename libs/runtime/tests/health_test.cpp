#include <gtest/gtest.h>

#include <atomic>

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

}  // namespace
}  // namespace orderflow::runtime
