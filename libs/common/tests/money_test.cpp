#include <gtest/gtest.h>

#include "libs/common/money.hpp"

namespace orderflow {
namespace {

TEST(Money, ParsesDecimalStrings) {
  EXPECT_EQ(Money::parse("12.50")->minor(), 1250);
  EXPECT_EQ(Money::parse("12.5")->minor(), 1250);
  EXPECT_EQ(Money::parse("12")->minor(), 1200);
  EXPECT_EQ(Money::parse("0.01")->minor(), 1);
  EXPECT_EQ(Money::parse("0")->minor(), 0);
}

TEST(Money, RejectsNonDecimal) {
  for (auto bad : {"", ".5", "5.", "1.234", "-1.00", "+1", "1e3", "1,00", "12.5a", " 1", "NaN",
                   "1000000000000000"}) {
    EXPECT_FALSE(Money::parse(bad)) << bad;
  }
}

TEST(Money, PrintsTwoFractionDigits) {
  EXPECT_EQ(Money::from_minor(2500).str(), "25.00");
  EXPECT_EQ(Money::from_minor(5).str(), "0.05");
  EXPECT_EQ(Money::parse("99999999999.99")->str(), "99999999999.99");
}

TEST(Money, CheckedArithmeticDetectsOverflow) {
  auto a = *Money::parse("12.50");
  EXPECT_EQ(a.times(2)->str(), "25.00");
  EXPECT_EQ(a.plus(a)->str(), "25.00");
  auto big = Money::from_minor(Money::kMaxMinor);
  EXPECT_FALSE(big.plus(Money::from_minor(1)));
  EXPECT_FALSE(big.times(2));
  EXPECT_FALSE(a.times(-1));
}

}  // namespace
}  // namespace orderflow
