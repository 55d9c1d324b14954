#include <gtest/gtest.h>

#include "libs/observability/trace.hpp"

namespace orderflow::trace {
namespace {

TEST(Trace, ParsesValidTraceparent) {
  auto c = Context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(c->span_id, "00f067aa0ba902b7");
  EXPECT_TRUE(c->sampled);
}

TEST(Trace, RejectsInvalid) {
  EXPECT_FALSE(Context::parse(""));
  EXPECT_FALSE(Context::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(Context::parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(Context::parse("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(Trace, ContinueKeepsTraceIdAndMakesNewSpan) {
  auto c = Context::continue_or_start("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(c.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(c.span_id, "00f067aa0ba902b7");
  auto fresh = Context::continue_or_start("garbage");
  EXPECT_EQ(fresh.trace_id.size(), 32u);
  EXPECT_TRUE(Context::parse(fresh.traceparent()));
}

}  // namespace
}  // namespace orderflow::trace
