#include <gtest/gtest.h>

#include "libs/common/card.hpp"

namespace orderflow {
namespace {

TEST(CardNumber, FindsPansPlainOrGrouped) {
  EXPECT_TRUE(contains_card_number("4242424242424242"));
  EXPECT_TRUE(contains_card_number("card: 4000-0566-5566-5556 exp"));
  EXPECT_TRUE(contains_card_number("5555 5555 5555 4444"));
  EXPECT_TRUE(contains_card_number("c-4111111111111111"));
  EXPECT_TRUE(contains_card_number("key-5555555555554444"));
}

TEST(CardNumber, IgnoresWhatIsNotAPan) {
  EXPECT_FALSE(contains_card_number("4242424242424241"));         // Luhn fails
  EXPECT_FALSE(contains_card_number("424242424242"));             // 12 digits
  EXPECT_FALSE(contains_card_number("42424242424242424242424"));  // longer than any PAN
  EXPECT_FALSE(contains_card_number("order 12345 on 2026-01-01"));
  EXPECT_FALSE(contains_card_number(""));
}

// A UUID whose decimal groups line up as 16 digits passing Luhn: an id, not a card.
TEST(CardNumber, UuidsAreNeverCards) {
  const std::string_view lined_up = "42424242-4242-4242-abcd-0123456789ab";
  ASSERT_TRUE(contains_card_number("4242424242424242")) << "the same digits alone are a PAN";
  EXPECT_FALSE(contains_card_number(lined_up));
  EXPECT_FALSE(contains_card_number("pg-race-42424242-4242-4242-abcd-0123456789ab"));
  EXPECT_FALSE(contains_card_number("42424242-4242-4242-ABCD-0123456789AB"));
  // A PAN next to a UUID is still found.
  EXPECT_TRUE(contains_card_number("42424242-4242-4242-abcd-0123456789ab 4242424242424242"));
  // Not UUID-shaped (a hex run too long on the left): the digits count again.
  EXPECT_TRUE(contains_card_number("card 4242-4242-4242-4242"));
}

}  // namespace
}  // namespace orderflow
