#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orderflow {

// An exact amount in minor units (cents). Never a float: parsed from and printed as a
// decimal string with at most two fraction digits ("12.5" -> 1250, printed "12.50").
class Money final {
 public:
  // Largest amount accepted anywhere: 10^13 minor units (100 billion in major units).
  static constexpr std::int64_t kMaxMinor = 10'000'000'000'000;

  constexpr Money() = default;
  static constexpr Money from_minor(std::int64_t minor) { return Money(minor); }
  // Nullopt for anything but [0-9]+(\.[0-9]{1,2})? within kMaxMinor.
  static std::optional<Money> parse(std::string_view s);

  constexpr std::int64_t minor() const { return minor_; }
  std::string str() const;

  // Checked arithmetic: nullopt when the result would exceed kMaxMinor.
  std::optional<Money> plus(Money o) const;
  std::optional<Money> times(std::int64_t n) const;

  friend constexpr bool operator==(Money, Money) = default;

 private:
  constexpr explicit Money(std::int64_t minor) : minor_(minor) {}
  std::int64_t minor_ = 0;
};

}  // namespace orderflow
