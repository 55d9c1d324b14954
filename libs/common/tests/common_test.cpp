#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "libs/common/ids.hpp"
#include "libs/common/settings.hpp"
#include "libs/common/time.hpp"

namespace orderflow {
namespace {

TEST(Ids, UuidIsVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = ids::uuid();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(Ids, UuidV7CarriesItsMillisecondAndSortsByTime) {
  const auto ms_now = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const auto ms_of = [](const std::string& id) {
    return std::stoll(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);  // the first 48 bits
  };
  std::set<std::string> seen;
  const auto before = ms_now();
  auto first = ids::uuid_v7();
  const auto after = ms_now();
  ASSERT_EQ(first.size(), 36u);
  EXPECT_EQ(first[14], '7') << first;
  EXPECT_TRUE(first[19] == '8' || first[19] == '9' || first[19] == 'a' || first[19] == 'b') << first;
  EXPECT_GE(ms_of(first), before);
  EXPECT_LE(ms_of(first), after);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(ids::uuid_v7()).second);
  // An id of a later millisecond sorts after every id of an earlier one.
  std::string later;
  do later = ids::uuid_v7();
  while (ms_of(later) <= ms_of(*seen.rbegin()));
  EXPECT_GT(later, *seen.rbegin());
  EXPECT_GT(later, first);
}

TEST(Ids, RandomHexHasRequestedLength) {
  EXPECT_EQ(ids::random_hex(16).size(), 32u);
  EXPECT_EQ(ids::random_hex(8).size(), 16u);
}

TEST(Time, FormatsUtcWithMillis) {
  EXPECT_EQ(iso8601_from_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_from_ms(1'767'225'600'123), "2026-01-01T00:00:00.123Z");
}

TEST(Settings, FlagWinsOverEnvironmentAndDefault) {
  ::setenv("ORDERFLOW_TEST_PORT", "9000", 1);
  Settings s(std::map<std::string, std::string>{{"test-port", "9001"}});
  EXPECT_EQ(s.integer("test-port", 1, 1, 65535), 9001);
  Settings env_only(std::map<std::string, std::string>{});
  EXPECT_EQ(env_only.integer("test-port", 1, 1, 65535), 9000);
  EXPECT_EQ(env_only.integer("other-port", 7, 1, 65535), 7);
  ::unsetenv("ORDERFLOW_TEST_PORT");
}

TEST(Settings, RejectsOutOfRangeAndGarbage) {
  Settings s(std::map<std::string, std::string>{{"port", "70000"}, {"n", "12abc"}, {"flag", "maybe"}});
  EXPECT_THROW((void)s.integer("port", 1, 1, 65535), ConfigError);
  EXPECT_THROW((void)s.integer("n", 1, 0, 100), ConfigError);
  EXPECT_THROW((void)s.boolean("flag", false), ConfigError);
}

TEST(Settings, ParsesArgv) {
  const char* argv[] = {"svc", "--http-port=8081", "--data-dir", "/tmp/x", "--verbose"};
  Settings s(5, const_cast<char**>(argv));
  EXPECT_EQ(s.str("http-port", ""), "8081");
  EXPECT_EQ(s.str("data-dir", ""), "/tmp/x");
  EXPECT_TRUE(s.boolean("verbose", false));
}

}  // namespace
}  // namespace orderflow
