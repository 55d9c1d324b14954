#include <gtest/gtest.h>

#include <array>
#include <filesystem>

#include "libs/common/ids.hpp"
#include "libs/storage/sqlite.hpp"

namespace orderflow::storage {
namespace {

constexpr std::array<std::string_view, 2> kMigrations{
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "ALTER TABLE t ADD COLUMN note TEXT"};

TEST(Sqlite, MigratesOnceAndPersists) {
  auto path = std::filesystem::temp_directory_path() / ("orderflow-" + ids::uuid() + ".db");
  {
    Database db(path.string());
    db.migrate(kMigrations);
    db.prepare("INSERT INTO t(name, note) VALUES (?, ?)").bind_all(std::string_view("a"), std::string_view("n")).run();
  }
  {
    Database db(path.string());
    db.migrate(kMigrations);  // already applied: must be a no-op
    auto s = db.prepare("SELECT name, note FROM t");
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.text(0), "a");
    EXPECT_EQ(s.text(1), "n");
    EXPECT_FALSE(s.step());
  }
  std::filesystem::remove(path);
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  Database db(":memory:");
  db.migrate(kMigrations);
  {
    Transaction tx(db);
    db.prepare("INSERT INTO t(name) VALUES ('x')").run();
  }
  auto count = db.prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.integer(0), 0);
}

TEST(Sqlite, PingAnswersOnAnOpenDatabase) {
  Database db(":memory:");
  EXPECT_TRUE(db.ping().ok());
}

TEST(Sqlite, ConstraintViolationIsReported) {
  Database db(":memory:");
  db.migrate(kMigrations);
  db.prepare("INSERT INTO t(name) VALUES ('x')").run();
  try {
    db.prepare("INSERT INTO t(name) VALUES ('x')").run();
    FAIL() << "expected a constraint error";
  } catch (const DbError& e) {
    EXPECT_TRUE(e.is_constraint());
  }
}

}  // namespace
}  // namespace orderflow::storage
