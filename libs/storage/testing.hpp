#pragma once

// Test support: a fresh, private database on either backend, removed afterwards.
//   SQLite: a temporary file.  PostgreSQL: a new schema in the database at
//   ORDERFLOW_TEST_DATABASE_URL (scripts/test.sh starts a server and sets it).
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include "libs/common/ids.hpp"
#include "libs/storage/database.hpp"

namespace orderflow::storage::testing {

inline std::optional<std::string> postgres_url() {
  const char* url = std::getenv("ORDERFLOW_TEST_DATABASE_URL");
  if (!url || !*url) return std::nullopt;
  return std::string(url);
}

inline const char* backend_name(Backend b) { return b == Backend::kPostgres ? "postgres" : "sqlite"; }

// What the connection's commits wait for right now: SQLite's synchronous ("2" FULL, "1"
// NORMAL), PostgreSQL's synchronous_commit ("on", "off"). durable_setting(): the first ones.
inline std::string commit_setting(Database& db) {
  auto s = db.prepare(db.backend() == Backend::kSqlite ? "PRAGMA synchronous"
                                                       : "SELECT current_setting('synchronous_commit')");
  if (!s.step()) throw DbError("no commit setting");
  return s.text(0);
}
inline std::string durable_setting(Backend b) { return b == Backend::kSqlite ? "2" : "on"; }
inline std::string deferred_setting(Backend b) { return b == Backend::kSqlite ? "1" : "off"; }

class TestDatabase final {
 public:
  // PostgreSQL without ORDERFLOW_TEST_DATABASE_URL: available() is false (the test skips).
  explicit TestDatabase(Backend backend) : backend_(backend) {
    if (backend == Backend::kSqlite) {
      path_ = (std::filesystem::temp_directory_path() / ("orderflow-test-" + ids::uuid() + ".db")).string();
      url_ = path_;
    } else if (auto url = postgres_url()) {
      url_ = *url;
      schema_ = "test_" + ids::random_hex(8);
    }
  }
  ~TestDatabase() {
    if (backend_ == Backend::kSqlite) {
      for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    } else if (!url_.empty()) {
      try {
        Database admin(url_);
        admin.exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
      } catch (...) {  // NOLINT(bugprone-empty-catch): a leftover schema only costs space
      }
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  bool available() const { return !url_.empty(); }
  const std::string& url() const { return url_; }
  const std::string& schema() const { return schema_; }  // ignored by SQLite
  // A new connection to it.
  std::unique_ptr<Database> open() const { return std::make_unique<Database>(url_, schema_); }

 private:
  Backend backend_;
  std::string path_, url_, schema_ = "public";
};

}  // namespace orderflow::storage::testing

namespace orderflow::storage {
inline void PrintTo(Backend b, std::ostream* os) { *os << testing::backend_name(b); }
}  // namespace orderflow::storage

// In a test file: ORDERFLOW_STORAGE_BACKENDS(SuiteName) runs the value-parameterised suite
// (TestWithParam<storage::Backend>) on both backends (prefixes Sqlite/ and Postgres/).
#define ORDERFLOW_STORAGE_BACKENDS(suite)                                                        \
  INSTANTIATE_TEST_SUITE_P(Sqlite, suite, ::testing::Values(::orderflow::storage::Backend::kSqlite)); \
  INSTANTIATE_TEST_SUITE_P(Postgres, suite, ::testing::Values(::orderflow::storage::Backend::kPostgres))

#define ORDERFLOW_SKIP_WITHOUT(db)                                                              \
  if (!(db).available()) GTEST_SKIP() << "no PostgreSQL: set ORDERFLOW_TEST_DATABASE_URL (scripts/test.sh does)"
