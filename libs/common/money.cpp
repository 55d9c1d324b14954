#include "libs/common/money.hpp"

#include <cstdio>

namespace orderflow {

std::optional<Money> Money::parse(std::string_view s) {
  auto dot = s.find('.');
  auto whole = s.substr(0, dot);
  auto frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 14) return std::nullopt;
  if (dot != std::string_view::npos && (frac.empty() || frac.size() > 2)) return std::nullopt;
  std::int64_t units = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    units = units * 10 + (c - '0');
  }
  std::int64_t cents = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    cents *= 10;
    if (i < frac.size()) {
      if (frac[i] < '0' || frac[i] > '9') return std::nullopt;
      cents += frac[i] - '0';
    }
  }
  std::int64_t minor = units * 100 + cents;
  if (minor > kMaxMinor) return std::nullopt;
  return Money(minor);
}

std::string Money::str() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(minor_ / 100),
                static_cast<long long>(minor_ % 100));
  return buf;
}

std::optional<Money> Money::plus(Money o) const {
  if (o.minor_ > kMaxMinor - minor_) return std::nullopt;
  return Money(minor_ + o.minor_);
}

std::optional<Money> Money::times(std::int64_t n) const {
  if (n < 0) return std::nullopt;
  if (n != 0 && minor_ > kMaxMinor / n) return std::nullopt;
  return Money(minor_ * n);
}

}  // namespace orderflow
