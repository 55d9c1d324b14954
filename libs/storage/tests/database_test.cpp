#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>
#include <thread>

#include "libs/storage/database.hpp"
#include "libs/storage/testing.hpp"

namespace orderflow::storage {
namespace {

constexpr std::array<std::string_view, 2> kMigrations{
    "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, n INTEGER)",
    "ALTER TABLE t ADD COLUMN note TEXT"};

class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { ORDERFLOW_SKIP_WITHOUT(db_); }
  testing::TestDatabase db_{GetParam()};
};

TEST_P(DatabaseTest, MigratesOnceAndPersists) {
  {
    auto db = db_.open();
    db->migrate(kMigrations);
    db->prepare("INSERT INTO t(name, note, n) VALUES (?, ?, ?)")
        .bind_all(std::string_view("a"), std::string_view("n"), std::int64_t{1} << 40)
        .run();
  }
  {
    auto db = db_.open();
    db->migrate(kMigrations);  // already applied: must be a no-op
    auto s = db->prepare("SELECT name, note, n, id FROM t");
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.text(0), "a");
    EXPECT_EQ(s.text(1), "n");
    EXPECT_EQ(s.integer(2), std::int64_t{1} << 40) << "integers are 64-bit on both backends";
    EXPECT_EQ(s.integer(3), 1);
    EXPECT_FALSE(s.step());
  }
}

TEST_P(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  auto db = db_.open();
  db->migrate(kMigrations);
  {
    Transaction tx(*db);
    db->prepare("INSERT INTO t(name) VALUES ('x')").run();
  }
  {
    Transaction tx(*db);
    db->prepare("INSERT INTO t(name) VALUES ('y')").run();
    tx.commit();
  }
  auto count = db->prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.integer(0), 1);
}

// A deferred transaction commits without waiting for its own fsync (the setting is lowered
// for it alone), another connection sees what it wrote, and the transactions after it are
// durable again, whether it committed or rolled back.
TEST_P(DatabaseTest, ADeferredTransactionCommitsAndLeavesTheConnectionDurable) {
  using testing::commit_setting;
  auto db = db_.open();
  db->migrate(kMigrations);
  const std::string durable = testing::durable_setting(db->backend());
  EXPECT_EQ(commit_setting(*db), durable);
  {
    Transaction tx(*db, Durability::kDeferred);
    db->prepare("INSERT INTO t(name) VALUES ('deferred')").run();
    EXPECT_EQ(commit_setting(*db), testing::deferred_setting(db->backend()));
    tx.commit();
  }
  EXPECT_EQ(commit_setting(*db), durable);
  {
    Transaction tx(*db, Durability::kDeferred);
    db->prepare("INSERT INTO t(name) VALUES ('rolled-back')").run();
  }
  EXPECT_EQ(commit_setting(*db), durable);
  {
    Transaction tx(*db);
    EXPECT_EQ(commit_setting(*db), durable);
    db->prepare("INSERT INTO t(name) VALUES ('durable')").run();
    tx.commit();
  }
  auto other = db_.open();
  auto rows = other->prepare("SELECT name FROM t ORDER BY id");
  std::vector<std::string> names;
  while (rows.step()) names.push_back(rows.text(0));
  EXPECT_EQ(names, (std::vector<std::string>{"deferred", "durable"}));
}

// Statements are reused (SQLite keeps them prepared): one dropped half-read leaves no
// bindings and no read snapshot behind.
TEST_P(DatabaseTest, AStatementDroppedHalfReadLeavesNothingBehind) {
  auto db = db_.open();
  db->migrate(kMigrations);
  for (auto [name, n] : {std::pair{"a", 1}, std::pair{"b", 2}, std::pair{"c", 3}}) {
    db->prepare("INSERT INTO t(name, n) VALUES (?, ?)").bind_all(std::string_view(name), n).run();
  }
  const char* sql = "SELECT name FROM t WHERE n >= ? ORDER BY name";
  {
    auto s = db->prepare(sql);
    s.bind(1, 0);
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.text(0), "a");
  }  // dropped with rows left
  auto other = db_.open();
  other->prepare("INSERT INTO t(name, n) VALUES ('d', 4)").run();
  auto s = db->prepare(sql);
  s.bind(1, 3);
  std::vector<std::string> names;
  while (s.step()) names.push_back(s.text(0));
  EXPECT_EQ(names, (std::vector<std::string>{"c", "d"})) << "fresh bindings and a fresh snapshot";
}

TEST_P(DatabaseTest, PingAnswersOnAnOpenDatabase) { EXPECT_TRUE(db_.open()->ping().ok()); }

TEST_P(DatabaseTest, ConstraintViolationIsReported) {
  auto db = db_.open();
  db->migrate(kMigrations);
  db->prepare("INSERT INTO t(name) VALUES ('x')").run();
  try {
    db->prepare("INSERT INTO t(name) VALUES ('x')").run();
    FAIL() << "expected a constraint error";
  } catch (const DbError& e) {
    EXPECT_TRUE(e.is_constraint()) << e.what();
  }
}

TEST_P(DatabaseTest, PortableDialect) {
  auto db = db_.open();
  db->migrate(kMigrations);
  auto ins = db->prepare("INSERT INTO t(name, n) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING id");
  ins.bind(1, "a").bind(2, 5);
  ASSERT_TRUE(ins.step());
  EXPECT_EQ(ins.integer(0), 1);
  EXPECT_FALSE(ins.step());
  EXPECT_EQ(db->changes(), 1);
  ins.reset();
  ins.bind(1, "a").bind(2, 6);
  EXPECT_FALSE(ins.step()) << "a conflicting insert returns nothing";
  EXPECT_EQ(db->changes(), 0);

  auto sel = db->prepare("SELECT name, n, note FROM t WHERE ?2 = '' OR name = ?1 LIMIT ?3");
  sel.bind(1, "a").bind(2, "x").bind(3, 10);
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.text(0), "a");
  EXPECT_EQ(sel.integer(1), 5);
  EXPECT_TRUE(sel.is_null(2));
  EXPECT_EQ(sel.optional_text(2), std::nullopt);

  db->prepare("UPDATE t SET note = ? WHERE name = ?").bind_null(1).bind(2, "zzz").run();
  EXPECT_EQ(db->changes(), 0);
}

TEST_P(DatabaseTest, OnlyOneConnectionLeads) {
  auto first = db_.open();
  auto second = db_.open();
  EXPECT_TRUE(first->try_lead("relay"));
  EXPECT_TRUE(first->try_lead("relay")) << "leadership is kept";
  if (GetParam() == Backend::kPostgres) {
    EXPECT_FALSE(second->try_lead("relay"));
    EXPECT_TRUE(second->try_lead("other-role"));
    first.reset();  // the leader goes away: its session ends, the lock with it
    bool took_over = false;
    for (int i = 0; i < 100 && !took_over; ++i) {
      took_over = second->try_lead("relay");
      if (!took_over) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(took_over);
  }
}

TEST_P(DatabaseTest, ReplicasMigrateConcurrentlyOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        db_.open()->migrate(kMigrations);
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto db = db_.open();
  db->prepare("INSERT INTO t(name, note) VALUES ('a', 'b')").run();
}

// PostgreSQL only: an SQLite connection is a file handle.
class PostgresDatabaseTest : public DatabaseTest {};

TEST_P(PostgresDatabaseTest, ReconnectsAfterTheConnectionBroke) {
  auto db = db_.open();
  db->migrate(kMigrations);
  db->prepare("INSERT INTO t(name) VALUES ('kept')").run();
  ASSERT_TRUE(db->try_lead("relay"));
  auto pid = db->prepare("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.step());
  db_.open()->exec("SELECT pg_terminate_backend(" + pid.text(0) + ", 5000)");
  try {
    db->prepare("SELECT COUNT(*) FROM t").step();
    FAIL() << "the broken connection went unnoticed";
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), DbError::Kind::kUnavailable) << e.what();
  }
  auto count = db->prepare("SELECT COUNT(*) FROM t");  // reconnected, same schema
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.integer(0), 1);
  EXPECT_TRUE(db->try_lead("relay")) << "the lock went with the old session: taken again";
  EXPECT_FALSE(db_.open()->try_lead("relay"));
}

TEST_P(DatabaseTest, RefusesAStoreMigratedByANewerRelease) {
  {
    auto db = db_.open();
    db->migrate(kMigrations);
    db->prepare("INSERT INTO t(name) VALUES ('kept')").run();
  }
  const std::array<std::string_view, 1> older{kMigrations[0]};
  try {
    db_.open()->migrate(older);
    FAIL() << "a binary that knows 1 migration started on a store at version 2";
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), DbError::Kind::kNewerSchema);
    const std::string what = e.what();
    EXPECT_NE(what.find(GetParam() == Backend::kSqlite ? db_.url() : db_.schema()), std::string::npos) << what;
    EXPECT_NE(what.find("schema version 2"), std::string::npos) << what;
    EXPECT_NE(what.find("knows only versions up to 1"), std::string::npos) << what;
    EXPECT_NE(what.find("Run that release"), std::string::npos) << what;
  }
  auto db = db_.open();
  db->migrate(kMigrations);  // the newer binary still finds everything as it left it
  auto s = db->prepare("SELECT name, note FROM t");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.text(0), "kept");
  EXPECT_TRUE(s.is_null(1));
}

ORDERFLOW_STORAGE_BACKENDS(DatabaseTest);
INSTANTIATE_TEST_SUITE_P(Postgres, PostgresDatabaseTest, ::testing::Values(Backend::kPostgres));

TEST(Sqlite, InMemoryAndUrlForms) {
  Database db(":memory:");
  EXPECT_EQ(db.backend(), Backend::kSqlite);
  EXPECT_EQ(db.for_update(), "");
  EXPECT_TRUE(db.ping().ok());
}

// A store out of space (SQLite's max_page_count stands in for a full disk): the write fails
// with kFull and leaves nothing behind, and a deferred transaction that failed so still
// gives the connection its durability back.
TEST(Sqlite, AFullStoreFailsWritesWithKFullAndStaysDurable) {
  testing::TestDatabase store(Backend::kSqlite);
  auto db = store.open();
  db->migrate(kMigrations);
  auto pages = db->prepare("PRAGMA page_count");
  ASSERT_TRUE(pages.step());
  db->exec("PRAGMA max_page_count=" + std::to_string(pages.integer(0) + 2));
  pages.reset();
  int stored = 0;
  try {
    for (;; ++stored) {
      Transaction tx(*db, Durability::kDeferred);
      db->prepare("INSERT INTO t(name, note) VALUES (?, ?)").bind_all("n" + std::to_string(stored), std::string(3000, 'x')).run();
      tx.commit();
    }
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), DbError::Kind::kFull) << e.what();
  }
  auto sync = db->prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync.step());
  EXPECT_EQ(sync.integer(0), 2) << "synchronous=FULL again after the failed deferred transaction";
  auto count = db->prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.integer(0), stored) << "only the committed rows";
  db->exec("PRAGMA max_page_count=1000000");  // space is back
  Transaction tx(*db);
  db->prepare("INSERT INTO t(name) VALUES ('after')").run();
  tx.commit();
  EXPECT_TRUE(db->ping().ok());
}

// A damaged SQLite file: opening it fails with one message naming the file, what is wrong
// and what to do, and leaves the file exactly as it was.
class DamagedSqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = db_.open();
    db->migrate(kMigrations);
    Transaction tx(*db);
    for (int i = 0; i < 300; ++i) {  // ~100 pages
      db->prepare("INSERT INTO t(name, note) VALUES (?, ?)").bind_all("n" + std::to_string(i), std::string(1000, 'x')).run();
    }
    tx.commit();
  }  // the last connection closes: checkpointed into the file, -wal removed

  std::string bytes() const {
    std::ifstream in(db_.url(), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write(const std::string& content) const {
    std::ofstream(db_.url(), std::ios::binary | std::ios::trunc) << content;
  }
  // Opens the damaged file and returns the error's message.
  std::string refused() const {
    const auto before = bytes();
    try {
      db_.open()->migrate(kMigrations);
    } catch (const DbError& e) {
      EXPECT_EQ(e.kind(), DbError::Kind::kCorrupt) << e.what();
      EXPECT_EQ(bytes(), before) << "the damaged file was written to";
      const std::string what = e.what();
      EXPECT_NE(what.find("SQLite database '" + std::filesystem::absolute(db_.url()).string() + "' is damaged"),
                std::string::npos) << what;
      EXPECT_NE(what.find("Restore it from a backup"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << "one line";
      return what;
    }
    ADD_FAILURE() << "opened a damaged file";
    return "";
  }

  testing::TestDatabase db_{Backend::kSqlite};
};

TEST_F(DamagedSqliteTest, AnIntactFileOpens) { EXPECT_TRUE(db_.open()->ping().ok()); }

TEST_F(DamagedSqliteTest, RefusesATruncatedFile) {
  auto content = bytes();
  ASSERT_GT(content.size(), 50'000u);
  write(content.substr(0, content.size() / 2));
  refused();
}

TEST_F(DamagedSqliteTest, RefusesAFileTruncatedToNothing) {
  write("");
  // Truncated while the service was down; a file emptied seconds ago may be another
  // process creating it (ReplicasMigrateConcurrentlyOnce).
  std::filesystem::last_write_time(db_.url(), std::filesystem::file_time_type::clock::now() - std::chrono::minutes(5));
  EXPECT_NE(refused().find("empty"), std::string::npos);
}

TEST_F(DamagedSqliteTest, RefusesAFileThatIsNotADatabase) {
  auto content = bytes();
  write(std::string(content.size(), 'z'));
  EXPECT_NE(refused().find("file is not a database"), std::string::npos);
}

TEST_F(DamagedSqliteTest, RefusesDamagedPages) {
  auto content = bytes();
  const std::size_t page = 4096;  // SQLite's default page size
  for (std::size_t p = 1; p * page < content.size(); ++p) content[p * page] = '\x2a';  // no valid b-tree page type
  write(content);
  refused();
}

}  // namespace
}  // namespace orderflow::storage
