// The SQLite backend: one connection to a database file in WAL mode, synchronous=FULL,
// with its prepared statements kept for reuse.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "libs/storage/database.hpp"

namespace orderflow::storage::detail {
namespace {

DbError::Kind kind_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return DbError::Kind::kConstraint;
    case SQLITE_CANTOPEN: return DbError::Kind::kUnavailable;
    case SQLITE_CORRUPT: return DbError::Kind::kCorrupt;
    default: return DbError::Kind::kOther;
  }
}

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  throw DbError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), kind_of(rc));
}

class SqliteCursor final : public Cursor {
 public:
  SqliteCursor(sqlite3* db, std::string_view sql) : db_(db) {
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                                nullptr);
    if (rc != SQLITE_OK) fail(db_, rc, "prepare failed: " + std::string(sql.substr(0, 80)));
  }
  ~SqliteCursor() override {
    if (stmt_) sqlite3_finalize(stmt_);
  }
  SqliteCursor(const SqliteCursor&) = delete;
  SqliteCursor& operator=(const SqliteCursor&) = delete;

  void bind_text(int i, std::string_view v) override {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  void bind_int(int i, std::int64_t v) override { check(sqlite3_bind_int64(stmt_, i, v)); }
  void bind_null(int i) override { check(sqlite3_bind_null(stmt_, i)); }
  bool step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, "step");
  }
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int col) const override {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  std::int64_t integer(int col) const override { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, rc, "bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Prepared statements are kept for reuse: parsing and planning a statement costs more
// than running it for the small queries of a service. A Statement hands its cursor back
// (reset, bindings cleared) when it goes out of scope.
class StatementPool final {
 public:
  std::unique_ptr<SqliteCursor> take(sqlite3* db, std::string_view sql) {
    {
      std::lock_guard lock(mu_);
      if (auto it = idle_.find(sql); it != idle_.end() && !it->second.empty()) {
        auto cursor = std::move(it->second.back());
        it->second.pop_back();
        return cursor;
      }
    }
    return std::make_unique<SqliteCursor>(db, sql);
  }
  void give_back(std::string_view sql, std::unique_ptr<SqliteCursor> cursor) noexcept {
    cursor->reset();  // ends a half-read SELECT (its read transaction) and clears bindings
    std::lock_guard lock(mu_);
    auto& idle = idle_[std::string(sql)];
    if (idle.size() < kMaxIdlePerStatement) idle.push_back(std::move(cursor));
  }
  void clear() {
    std::lock_guard lock(mu_);
    idle_.clear();
  }

 private:
  static constexpr std::size_t kMaxIdlePerStatement = 4;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<SqliteCursor>>, Hash, std::equal_to<>> idle_;
};

class PooledCursor final : public Cursor {
 public:
  PooledCursor(StatementPool& pool, sqlite3* db, std::string_view sql)
      : pool_(pool), sql_(sql), cursor_(pool.take(db, sql)) {}
  ~PooledCursor() override { pool_.give_back(sql_, std::move(cursor_)); }
  PooledCursor(const PooledCursor&) = delete;
  PooledCursor& operator=(const PooledCursor&) = delete;

  void bind_text(int i, std::string_view v) override { cursor_->bind_text(i, v); }
  void bind_int(int i, std::int64_t v) override { cursor_->bind_int(i, v); }
  void bind_null(int i) override { cursor_->bind_null(i); }
  bool step() override { return cursor_->step(); }
  void reset() override { cursor_->reset(); }
  std::string text(int col) const override { return cursor_->text(col); }
  std::int64_t integer(int col) const override { return cursor_->integer(col); }
  bool is_null(int col) const override { return cursor_->is_null(col); }

 private:
  StatementPool& pool_;
  std::string sql_;
  std::unique_ptr<SqliteCursor> cursor_;
};

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(const std::string& path) {
    if (path != ":memory:") {
      auto parent = std::filesystem::path(path).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent);
    }
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = "cannot open database '" + path + "'";
      if (db_) sqlite3_close(db_);
      db_ = nullptr;
      fail(nullptr, rc, msg);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    // Switching a new file to WAL answers SQLITE_BUSY at once, without the busy handler, while
    // another connection is doing the same (replicas or tests opening one file together).
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);;) {
      int wal_rc = sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
      if (wal_rc == SQLITE_OK) break;
      if ((wal_rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() > until) {
        fail(db_, wal_rc, "PRAGMA journal_mode=WAL");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
  }
  ~SqliteConnection() override {
    statements_.clear();  // finalized before the connection closes
    if (db_) sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Backend backend() const override { return Backend::kSqlite; }

  void exec(std::string_view sql) override {
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      throw DbError("sql failed (" + s.substr(0, 60) + "): " + msg, kind_of(rc));
    }
  }

  std::unique_ptr<Cursor> prepare(std::string_view sql) override {
    return std::make_unique<PooledCursor>(statements_, db_, sql);
  }
  std::int64_t changes() const override { return sqlite3_changes64(db_); }
  // synchronous is a connection setting that cannot change inside a transaction: a deferred
  // transaction lowers it before BEGIN and the end of the transaction puts it back.
  void begin(Durability durability) override {
    if (durability == Durability::kDeferred) {
      exec("PRAGMA synchronous=NORMAL");
      deferred_ = true;
    }
    try {
      exec("BEGIN IMMEDIATE");
    } catch (...) {
      restore_durability();
      throw;
    }
  }
  void commit() override {
    exec("COMMIT");  // when it fails the transaction is still open: rollback() follows
    restore_durability();
  }
  void rollback() override {
    exec("ROLLBACK");
    restore_durability();
  }

  // One transaction per migration; the version is read inside it, so two processes
  // starting on the same file apply each migration once.
  void migrate(std::span<const std::string_view> migrations) override {
    for (;;) {
      begin(Durability::kDurable);
      try {
        SqliteCursor version_stmt(db_, "PRAGMA user_version");
        version_stmt.step();
        auto version = static_cast<std::size_t>(version_stmt.integer(0));
        if (version >= migrations.size()) {
          rollback();
          return;
        }
        exec(migrations[version]);
        exec("PRAGMA user_version=" + std::to_string(version + 1));
        commit();
      } catch (...) {
        rollback();
        throw;
      }
    }
  }

  bool try_lead(std::string_view /*role*/) override { return true; }

 private:
  void restore_durability() {
    if (!deferred_) return;
    deferred_ = false;
    exec("PRAGMA synchronous=FULL");
  }

  sqlite3* db_ = nullptr;
  StatementPool statements_;
  bool deferred_ = false;  // synchronous lowered for the open transaction
};

}  // namespace

std::unique_ptr<Connection> open_sqlite(const std::string& path) { return std::make_unique<SqliteConnection>(path); }

}  // namespace orderflow::storage::detail
