#include "bench/loadgen/histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace orderflow::bench {
namespace {

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 0; v < Histogram::kSub; ++v) h.record(v);
  EXPECT_EQ(h.count(), Histogram::kSub);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), Histogram::kSub - 1);
  EXPECT_EQ(h.percentile(50), 63u);
  EXPECT_EQ(h.percentile(100), Histogram::kSub - 1);
}

TEST(Histogram, BucketsTileTheRangeWithoutGapsOrOverlap) {
  std::uint64_t expected_low = 0;
  for (std::size_t i = 0; i <= Histogram::index_of(Histogram::kMaxValue); ++i) {
    ASSERT_EQ(Histogram::lowest_equivalent(i), expected_low) << i;
    ASSERT_EQ(Histogram::index_of(Histogram::lowest_equivalent(i)), i);
    ASSERT_EQ(Histogram::index_of(Histogram::highest_equivalent(i)), i);
    expected_low = Histogram::highest_equivalent(i) + 1;
  }
  EXPECT_EQ(expected_low, Histogram::kMaxValue + 1);
}

TEST(Histogram, PercentilesAreWithinTheStatedPrecision) {
  Histogram h;
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(7.0, 1.5);  // ~1 ms median, long tail
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 200'000; ++i) {
    auto v = static_cast<std::uint64_t>(d(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    auto rank = static_cast<std::size_t>(std::llround(p / 100.0 * static_cast<double>(values.size())));
    auto exact = values[rank - 1];  // the value of that rank (1-based)
    auto got = h.percentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1.0 + 1.0 / 64) + 1) << p;
  }
  EXPECT_EQ(h.percentile(100), values.back());
}

TEST(Histogram, MergeAddsCountsAndExtremes) {
  Histogram a, b;
  a.record(10, 3);
  b.record(1'000'000);
  b.record(5);
  a.merge(b);
  EXPECT_EQ(a.count(), 5u);
  EXPECT_EQ(a.min(), 5u);
  EXPECT_EQ(a.max(), 1'000'000u);
  EXPECT_NEAR(a.mean(), (30.0 + 1'000'000 + 5) / 5, 1e-6);
  EXPECT_EQ(a.percentile(80), 10u);
  EXPECT_GE(a.percentile(100), 1'000'000u);
}

TEST(Histogram, HugeValuesAreClampedNotLost) {
  Histogram h;
  h.record(UINT64_MAX);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), Histogram::kMaxValue);
}

}  // namespace
}  // namespace orderflow::bench
