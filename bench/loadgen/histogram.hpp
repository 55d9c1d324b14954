#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace orderflow::bench {

// A log-linear, high-dynamic-range histogram of non-negative integers (microseconds here),
// after Gil Tene's HdrHistogram, which Debian packages only for Java and Go. Values below
// 2^kSubBits are exact; above, every power-of-two range is split into 2^(kSubBits-1) equal
// buckets, so a value is known to within 1/64 (1.6 %) of itself, from 1 µs to 2^40 µs
// (12 days) in 2,560 counters (20 KiB). Recording is O(1) and allocation-free.
// Not thread-safe: one per thread, merge() at the end.
class Histogram final {
 public:
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kSub = 1ULL << kSubBits;   // 128 exact values
  static constexpr std::uint64_t kHalf = kSub / 2;          // 64 buckets per octave above
  static constexpr std::uint64_t kMaxValue = (1ULL << 40) - 1;

  Histogram() : counts_(index_of(kMaxValue) + 1, 0) {}

  void record(std::uint64_t v, std::uint64_t n = 1) {
    v = std::min(v, kMaxValue);
    counts_[index_of(v)] += n;
    total_ += n;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    sum_ += static_cast<double>(v) * static_cast<double>(n);
  }

  void merge(const Histogram& o) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
    sum_ += o.sum_;
  }

  std::uint64_t count() const { return total_; }
  std::uint64_t min() const { return total_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return total_ ? sum_ / static_cast<double>(total_) : 0.0; }

  // The smallest recorded-bucket upper bound at or below which `percentile` % of the values
  // lie (HdrHistogram's "highest equivalent value"), never above max().
  std::uint64_t percentile(double percentile) const {
    if (total_ == 0) return 0;
    percentile = std::clamp(percentile, 0.0, 100.0);
    auto wanted = static_cast<std::uint64_t>(percentile / 100.0 * static_cast<double>(total_) + 0.5);
    wanted = std::clamp<std::uint64_t>(wanted, 1, total_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= wanted) return std::min(highest_equivalent(i), max_);
    }
    return max_;
  }

  static std::size_t index_of(std::uint64_t v) {
    if (v < kSub) return static_cast<std::size_t>(v);
    const int msb = 63 - std::countl_zero(v);       // v in [2^msb, 2^(msb+1)), msb >= kSubBits
    const int shift = msb - (kSubBits - 1);         // v >> shift in [kHalf, kSub)
    return static_cast<std::size_t>(kSub + static_cast<std::uint64_t>(shift - 1) * kHalf + ((v >> shift) - kHalf));
  }
  static std::uint64_t lowest_equivalent(std::size_t i) {
    if (i < kSub) return i;
    const std::uint64_t k = i - kSub;
    const int shift = static_cast<int>(k / kHalf) + 1;
    return (kHalf + k % kHalf) << shift;
  }
  static std::uint64_t highest_equivalent(std::size_t i) {
    if (i < kSub) return i;
    const int shift = static_cast<int>((i - kSub) / kHalf) + 1;
    return lowest_equivalent(i) + (1ULL << shift) - 1;
  }

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace orderflow::bench
