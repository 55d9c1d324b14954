#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "libs/common/result.hpp"

namespace orderflow {
class Settings;
}

namespace orderflow::storage {

enum class Backend { kSqlite, kPostgres };

// When a transaction's COMMIT is on disk.
enum class Durability {
  // Before commit() returns (SQLite: the WAL is fsync'ed, synchronous=FULL; PostgreSQL:
  // synchronous_commit as configured, on by default).
  kDurable,
  // Soon after: the commit survives the process crashing, but an OS crash or power loss
  // (PostgreSQL: a server crash) may undo it, never a later durable commit (SQLite:
  // synchronous=NORMAL, so the next durable commit's fsync covers it; PostgreSQL: SET LOCAL
  // synchronous_commit = off). Only for writes whose loss merely repeats idempotent work,
  // e.g. deleting an outbox row already published: one fsync saved per transaction.
  kDeferred,
};

class DbError final : public std::runtime_error {
 public:
  enum class Kind {
    kOther,
    kConstraint,   // a UNIQUE / CHECK / FOREIGN KEY violation
    kUnavailable,  // cannot reach or open the database
    kCorrupt,      // the file is damaged, or the data contradicts the schema's invariants
    kNewerSchema,  // migrated by a newer release than this binary: never touched
    kFull,         // no space left: SQLITE_FULL / ENOSPC, PostgreSQL disk_full (53100)
  };
  explicit DbError(const std::string& what, Kind kind = Kind::kOther) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }
  bool is_constraint() const { return kind_ == Kind::kConstraint; }

 private:
  Kind kind_;
};

namespace detail {

// What a backend implements. SQL reaching a backend is in the portable dialect described
// in libs/storage/README.md; the backend translates what differs (dialect.hpp).
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void bind_text(int i, std::string_view v) = 0;
  virtual void bind_int(int i, std::int64_t v) = 0;
  virtual void bind_null(int i) = 0;
  virtual bool step() = 0;
  virtual void reset() = 0;
  virtual std::string text(int col) const = 0;
  virtual std::int64_t integer(int col) const = 0;
  virtual bool is_null(int col) const = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Backend backend() const = 0;
  virtual void exec(std::string_view sql) = 0;
  virtual std::unique_ptr<Cursor> prepare(std::string_view sql) = 0;
  virtual std::int64_t changes() const = 0;
  virtual void begin(Durability durability) = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  virtual void migrate(std::span<const std::string_view> migrations) = 0;
  virtual bool try_lead(std::string_view role) = 0;
  // Commits a write that changes nothing (ping()): throws what keeps writes from committing.
  virtual void probe_write() = 0;
};

std::unique_ptr<Connection> open_sqlite(const std::string& path);
std::unique_ptr<Connection> open_postgres(const std::string& url, const std::string& schema);

}  // namespace detail

class Statement;

// Where a service keeps its state, from its database URL:
//   postgresql://user:pass@host:port/db  (or postgres://...)  PostgreSQL, in `schema`
//   sqlite:///abs/path.db, sqlite:relative.db, or a plain path  SQLite (WAL, synchronous=FULL)
//   :memory:                                                    SQLite in memory (tests)
struct Location final {
  Backend backend = Backend::kSqlite;
  std::string target;  // the SQLite path, or the libpq connection URI
};
Location parse_url(const std::string& url);

// The service's database URL: --database-url / ORDERFLOW_DATABASE_URL when set, else the
// legacy --db-path / ORDERFLOW_DB_PATH, else `default_sqlite_path`.
std::string database_url(const Settings& settings, const std::string& default_sqlite_path);

// One connection to the service's database. SQLite: a file in WAL mode with
// synchronous=FULL, so a committed transaction is on disk before commit returns; opening an
// existing file runs PRAGMA quick_check first and refuses a damaged one (DbError kCorrupt,
// the message names the file and what to do) without writing to it.
// PostgreSQL: one libpq session whose search_path is the service's own schema (so services
// can share one database); reconnects on the next call after the connection broke.
// A Database is not thread-safe; the owner serialises access (see lock()).
class Database final {
 public:
  // `schema`: the PostgreSQL schema holding this service's tables (ignored by SQLite).
  explicit Database(const std::string& url, const std::string& schema = "public");
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Backend backend() const { return backend_; }
  void exec(std::string_view sql);
  Statement prepare(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  std::int64_t changes() const;

  // Applies migrations[i] for every i not applied yet, in order. SQLite counts in PRAGMA
  // user_version; PostgreSQL in <schema>.schema_version, under an advisory lock so replicas
  // starting together migrate once. Migrations are written in SQLite's DDL; dialect.hpp
  // translates them for PostgreSQL. A store already past migrations.size() (written by a
  // newer release) is left as it is: DbError kNewerSchema, naming the file or schema.
  // (Opening a SQLite file checks it first: a damaged one is DbError kCorrupt.)
  void migrate(std::span<const std::string_view> migrations);

  // " FOR UPDATE" where row locks exist (PostgreSQL), "" where a write transaction already
  // excludes every other writer (SQLite: BEGIN IMMEDIATE). Appended to a SELECT inside a
  // Transaction that reads a row it is about to change.
  std::string_view for_update() const;

  // Whether this process holds the named leadership (one background worker among replicas
  // sharing the database). PostgreSQL: a session advisory lock, kept until the connection
  // ends (the process exits or the connection breaks; then another replica takes over).
  // SQLite: a database file belongs to one process, so always true.
  bool try_lead(std::string_view role);

  // The health check: takes the lock, runs SELECT 1 and, on SQLite, commits a write that
  // changes nothing (without an fsync), so a full disk shows here even while no order or
  // record is being written — and so does its end. Errors: "db-full" (no space left; the
  // message names the file), "db-unavailable" (anything else).
  Status ping();

  // Serialises users of this connection across threads.
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mu_); }

 private:
  friend class Transaction;
  Backend backend_;
  std::unique_ptr<detail::Connection> conn_;
  std::mutex mu_;
};

// A prepared statement with positional parameters written `?` (or `?N`). bind() indices
// start at 1, column() indices at 0.
class Statement final {
 public:
  explicit Statement(std::unique_ptr<detail::Cursor> cursor) : cursor_(std::move(cursor)) {}

  Statement& bind(int i, std::string_view v) {
    cursor_->bind_text(i, v);
    return *this;
  }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, std::int64_t v) {
    cursor_->bind_int(i, v);
    return *this;
  }
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind_null(int i) {
    cursor_->bind_null(i);
    return *this;
  }
  Statement& bind(int i, const std::optional<std::string>& v) {
    return v ? bind(i, std::string_view(*v)) : bind_null(i);
  }
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  // Advances; true while a row is available.
  bool step() { return cursor_->step(); }
  // Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }
  // Ready to run again; clears the bindings.
  void reset() { cursor_->reset(); }

  std::string text(int col) const { return cursor_->text(col); }
  std::int64_t integer(int col) const { return cursor_->integer(col); }
  bool is_null(int col) const { return cursor_->is_null(col); }
  std::optional<std::string> optional_text(int col) const {
    return is_null(col) ? std::nullopt : std::optional<std::string>(text(col));
  }

 private:
  std::unique_ptr<detail::Cursor> cursor_;
};

// A write transaction, rolled back unless commit() was called. SQLite: BEGIN IMMEDIATE
// (excludes other writers). PostgreSQL: BEGIN (READ COMMITTED); rows read to be changed are
// locked with Database::for_update(), races on unique keys end in a constraint DbError.
class Transaction final {
 public:
  explicit Transaction(Database& db, Durability durability = Durability::kDurable) : db_(db) {
    db_.conn_->begin(durability);
  }
  ~Transaction() {
    if (!done_) {
      try {
        db_.conn_->rollback();
      } catch (...) {  // NOLINT(bugprone-empty-catch): nothing better to do in a destructor
      }
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.conn_->commit();
    done_ = true;
  }

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace orderflow::storage
