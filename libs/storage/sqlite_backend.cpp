// The SQLite backend: one connection to a database file in WAL mode, synchronous=FULL,
// with its prepared statements kept for reuse.
#include <sqlite3.h>

#include <cerrno>
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

// `db`, when given, tells an I/O error that ran out of space (a sync, a truncate) from others.
DbError::Kind kind_of(int rc, sqlite3* db = nullptr) {
  if ((rc & 0xff) == SQLITE_IOERR && db != nullptr && sqlite3_system_errno(db) == ENOSPC) return DbError::Kind::kFull;
  switch (rc & 0xff) {
    case SQLITE_FULL: return DbError::Kind::kFull;
    case SQLITE_CONSTRAINT: return DbError::Kind::kConstraint;
    case SQLITE_CANTOPEN: return DbError::Kind::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return DbError::Kind::kCorrupt;
    default: return DbError::Kind::kOther;
  }
}

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  throw DbError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), kind_of(rc, db));
}

// How long an empty database file may be one that another process is just creating.
constexpr auto kNewFileGrace = std::chrono::seconds(10);

std::string quoted_path(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return "'" + (ec ? path : abs.string()) + "'";
}

// A damaged file stops the service at start-up (runtime::guarded_main prints this as its one
// line and exits non-zero): it is never written to, "repaired" or replaced by an empty one.
[[noreturn]] void refuse_damaged(const std::string& path, std::string problem) {
  // quick_check reports "*** in database main ***\nPage 7: ...": one line for the log.
  for (auto& c : problem) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  throw DbError("SQLite database " + quoted_path(path) + " is damaged (" + problem +
                    "); refusing to use it, nothing was written to it. Restore it from a backup, or move it "
                    "aside together with its -wal and -shm files to start with an empty store (what it held is "
                    "then lost)",
                DbError::Kind::kCorrupt);
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
  explicit SqliteConnection(const std::string& path) : path_(path) {
    const bool file = path != ":memory:";
    if (file) {
      auto parent = std::filesystem::path(path).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent);
      // SQLite takes an empty file for a new database. Ours are never empty once opened (WAL
      // mode and the migrations write at once), so an empty one is truncated, unless another
      // process is creating it right now (replicas starting together): hence the age.
      std::error_code ec;
      if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0 && !ec) {
        auto age = std::filesystem::file_time_type::clock::now() - std::filesystem::last_write_time(path, ec);
        if (!ec && age > kNewFileGrace) {
          refuse_damaged(path, "the file is empty (0 bytes), as if truncated; if a first start was killed "
                               "right after creating it, delete it");
        }
      }
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
    if (file) check_intact();
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
    // A group commit runs each work in a SAVEPOINT: SQLite keeps the pages a savepoint may
    // have to roll back in a statement journal, by default a temporary file — a pwrite of
    // every page each work touches (measured: ~12 syscalls and ~38 KB per charge in the
    // gateway's ledger, ~10 per order in order-service). In memory it is a copy of those
    // pages, freed when the savepoint is released. Durability is the WAL's, unchanged.
    exec("PRAGMA temp_store=MEMORY");
  }
  ~SqliteConnection() override {
    statements_.clear();  // finalized before the connection closes
    if (db_) sqlite3_close_v2(db_);
  }

  // Before anything writes (journal mode, migrations): PRAGMA quick_check reads every page
  // once and checks the b-trees, but not that indexes match their tables (integrity_check
  // would; its extra cost grows with the number of indexes). Measured: 0.6 s for a 118 MB
  // file (libs/storage/README.md). Catches a truncated file, a foreign or overwritten header
  // ("file is not a database") and damaged pages.
  void check_intact() {
    sqlite3_stmt* stmt = nullptr;
    std::string problem;
    int rc = sqlite3_prepare_v2(db_, "PRAGMA quick_check(1)", -1, &stmt, nullptr);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) {
        auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        std::string result = text ? text : "";
        if (result != "ok") problem = "quick_check: " + result;
        rc = SQLITE_OK;
      } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
      }
    }
    std::string message = rc == SQLITE_OK ? std::string() : sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (!problem.empty()) refuse_damaged(path_, problem);
    if (rc != SQLITE_OK) {
      if (kind_of(rc) == DbError::Kind::kCorrupt) refuse_damaged(path_, message);
      throw DbError("cannot read SQLite database " + quoted_path(path_) + ": " + message, kind_of(rc));
    }
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
      throw DbError("sql failed (" + s.substr(0, 60) + "): " + msg, kind_of(rc, db_));
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
    // A COMMIT that failed for lack of space (or an I/O error) may have rolled the
    // transaction back already; either way the connection gets its durability back.
    try {
      if (sqlite3_get_autocommit(db_) == 0) exec("ROLLBACK");
    } catch (...) {
      restore_durability();
      throw;
    }
    restore_durability();
  }

  // Rewrites the header's application id with its own value: a one-page transaction that
  // must reach the WAL (no fsync of its own), so it fails while the disk is full.
  void probe_write() override {
    std::int64_t id = 0;
    {
      SqliteCursor read(db_, "PRAGMA application_id");
      if (read.step()) id = read.integer(0);
    }
    begin(Durability::kDeferred);
    try {
      exec("PRAGMA application_id=" + std::to_string(id));
      commit();
    } catch (const DbError& e) {
      rollback();
      throw DbError("cannot write to SQLite database " + quoted_path(path_) + ": " + e.what() +
                        (e.kind() == DbError::Kind::kFull ? " (no space left on its file system: free some, and it "
                                                            "takes writes again by itself)"
                                                          : ""),
                    e.kind());
    }
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
        if (version > migrations.size()) {
          throw DbError("SQLite database " + quoted_path(path_) + " is at schema version " + std::to_string(version) +
                            ", but this binary knows only versions up to " + std::to_string(migrations.size()) +
                            ": a newer release wrote it. Refusing to use it, nothing was changed. Run "
                            "that release (or a newer one), or restore a backup taken before the upgrade",
                        DbError::Kind::kNewerSchema);
        }
        if (version == migrations.size()) {
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

  std::string path_;
  sqlite3* db_ = nullptr;
  StatementPool statements_;
  bool deferred_ = false;  // synchronous lowered for the open transaction
};

}  // namespace

std::unique_ptr<Connection> open_sqlite(const std::string& path) { return std::make_unique<SqliteConnection>(path); }

}  // namespace orderflow::storage::detail
