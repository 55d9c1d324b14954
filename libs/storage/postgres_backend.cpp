// The PostgreSQL backend: one libpq session, search_path = the service's schema, statements
// prepared once per session (named, cached by their SQL text).
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <unordered_map>
#include <vector>

#include "libs/storage/database.hpp"
#include "libs/storage/dialect.hpp"

namespace orderflow::storage::detail {
namespace {

// Advisory lock keys: a 64-bit FNV-1a hash of the name.
std::int64_t lock_key(std::string_view name) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<std::int64_t>(h);
}

constexpr std::string_view kMigrationLock = "orderflow.migrate";

class PgConnection;

class PgCursor final : public Cursor {
 public:
  PgCursor(PgConnection& conn, dialect::Translated sql)
      : conn_(conn), sql_(std::move(sql.sql)), params_(static_cast<std::size_t>(sql.parameters)) {}
  ~PgCursor() override { clear(); }
  PgCursor(const PgCursor&) = delete;
  PgCursor& operator=(const PgCursor&) = delete;

  void bind_text(int i, std::string_view v) override { slot(i) = std::string(v); }
  void bind_int(int i, std::int64_t v) override { slot(i) = std::to_string(v); }
  void bind_null(int i) override { slot(i).reset(); }
  bool step() override;
  void reset() override {
    clear();
    for (auto& p : params_) p.reset();
  }
  std::string text(int col) const override {
    return {PQgetvalue(result_, row_, col), static_cast<std::size_t>(PQgetlength(result_, row_, col))};
  }
  std::int64_t integer(int col) const override { return std::strtoll(PQgetvalue(result_, row_, col), nullptr, 10); }
  bool is_null(int col) const override { return PQgetisnull(result_, row_, col) != 0; }

 private:
  std::optional<std::string>& slot(int i) {
    if (i < 1 || static_cast<std::size_t>(i) > params_.size()) {
      throw DbError("bind: no parameter " + std::to_string(i) + " in: " + sql_.substr(0, 80));
    }
    clear();
    return params_[static_cast<std::size_t>(i - 1)];
  }
  void clear() {
    if (result_) PQclear(result_);
    result_ = nullptr;
  }

  PgConnection& conn_;
  std::string sql_;
  std::vector<std::optional<std::string>> params_;
  PGresult* result_ = nullptr;
  int row_ = 0;
};

class PgConnection final : public Connection {
 public:
  PgConnection(std::string url, std::string schema) : url_(std::move(url)), schema_(std::move(schema)) {
    conn_ = PQconnectdb(url_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = "cannot connect to PostgreSQL: " + std::string(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw DbError(msg, DbError::Kind::kUnavailable);
    }
    on_connected();
  }
  ~PgConnection() override {
    if (conn_) PQfinish(conn_);
  }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Backend backend() const override { return Backend::kPostgres; }

  void exec(std::string_view sql) override {
    ensure_connected();
    PQclear(check(PQexec(conn_, std::string(sql).c_str()), sql));
  }

  std::unique_ptr<Cursor> prepare(std::string_view sql) override {
    auto translated = dialect::postgres_placeholders(sql);
    statement_name(translated.sql);  // prepares now, so a bad statement fails here
    return std::make_unique<PgCursor>(*this, std::move(translated));
  }

  std::int64_t changes() const override { return changes_; }

  void begin(Durability durability) override {
    exec("BEGIN");
    in_transaction_ = true;
    if (durability == Durability::kDeferred) {
      try {
        exec("SET LOCAL synchronous_commit TO OFF");
      } catch (...) {
        rollback();  // the Transaction never existed: nothing else would end it
        throw;
      }
    }
  }
  void commit() override {
    in_transaction_ = false;
    exec("COMMIT");
  }
  void rollback() override {
    in_transaction_ = false;
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
  }

  void migrate(std::span<const std::string_view> migrations) override {
    const std::string table = quoted(schema_) + ".schema_version";
    begin(Durability::kDurable);
    try {
      exec("SELECT pg_advisory_xact_lock(" + std::to_string(lock_key(kMigrationLock)) + ")");
      exec("CREATE SCHEMA IF NOT EXISTS " + quoted(schema_));
      exec("CREATE TABLE IF NOT EXISTS " + table + " (version BIGINT NOT NULL)");
      std::size_t version = 0;
      {
        auto s = prepare("SELECT version FROM " + table);
        if (s->step()) {
          version = static_cast<std::size_t>(s->integer(0));
        } else {
          exec("INSERT INTO " + table + " (version) VALUES (0)");
        }
      }
      if (version > migrations.size()) {
        throw DbError("PostgreSQL schema " + quoted(schema_) + " is at schema version " + std::to_string(version) +
                          " (" + table + "), but this binary knows only versions up to " + std::to_string(migrations.size()) +
                          ": a newer release migrated it. Refusing to use it, nothing was changed. Run "
                          "that release (or a newer one), or restore a backup taken before the upgrade",
                      DbError::Kind::kNewerSchema);
      }
      for (std::size_t i = version; i < migrations.size(); ++i) exec(dialect::postgres_ddl(migrations[i]));
      if (version < migrations.size()) {
        exec("UPDATE " + table + " SET version = " + std::to_string(migrations.size()));
      }
      commit();
    } catch (...) {
      rollback();
      throw;
    }
  }

  // PostgreSQL refuses writes on a full disk by itself (disk_full, or it stops): the
  // SELECT 1 before this, and the failing commits, show it.
  void probe_write() override {}

  bool try_lead(std::string_view role) override {
    ensure_connected();
    const std::string name = schema_ + "." + std::string(role);
    if (auto it = leading_.find(name); it != leading_.end() && it->second == generation_) return true;
    auto s = prepare("SELECT pg_try_advisory_lock(CAST(? AS BIGINT))");
    s->bind_int(1, lock_key(name));
    if (!s->step() || s->text(0) != "t") return false;
    leading_[name] = generation_;
    return true;
  }

  // The session's name for a prepared statement, preparing it on first use (and again after
  // a reconnect).
  const std::string& statement_name(const std::string& sql) {
    ensure_connected();
    if (auto it = prepared_.find(sql); it != prepared_.end()) return it->second;
    std::string name = "of" + std::to_string(prepared_.size() + 1);
    PQclear(check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), sql));
    return prepared_.emplace(sql, std::move(name)).first->second;
  }

  PGresult* run_prepared(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    const auto& name = statement_name(sql);
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* r = check(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                       nullptr, 0),
                        sql);
    changes_ = std::strtoll(PQcmdTuples(r), nullptr, 10);
    return r;
  }

 private:
  void on_connected() {
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // "already exists, skipping"
    PQclear(check(PQexec(conn_, ("SET search_path TO " + quoted(schema_)).c_str()), "SET search_path"));
    // Which process a session belongs to (pg_stat_activity), unless the URL names it.
    const char* app = PQparameterStatus(conn_, "application_name");
    if (!app || !*app) {
      const std::string name = "orderflow/" + schema_ + "/" + std::to_string(::getpid());
      PQclear(check(PQexec(conn_, ("SET application_name TO '" + name + "'").c_str()), "SET application_name"));
    }
  }

  // After the connection broke: reconnect, unless a transaction was open (it is lost; the
  // caller's rollback ends it and the next call reconnects).
  void ensure_connected() {
    if (PQstatus(conn_) == CONNECTION_OK) return;
    if (in_transaction_) throw DbError("PostgreSQL connection lost in a transaction", DbError::Kind::kUnavailable);
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      throw DbError("cannot reconnect to PostgreSQL: " + std::string(PQerrorMessage(conn_)),
                    DbError::Kind::kUnavailable);
    }
    ++generation_;  // prepared statements and advisory locks belonged to the old session
    prepared_.clear();
    on_connected();
  }

  std::string quoted(const std::string& identifier) {
    char* q = PQescapeIdentifier(conn_, identifier.c_str(), identifier.size());
    if (!q) throw DbError("bad identifier '" + identifier + "': " + PQerrorMessage(conn_));
    std::string out(q);
    PQfreemem(q);
    return out;
  }

  PGresult* check(PGresult* r, std::string_view sql) {
    auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string code = state ? state : "";  // SQLSTATE
    std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
    if (r) PQclear(r);
    auto kind = DbError::Kind::kOther;
    if (code == "53100") {
      kind = DbError::Kind::kFull;  // disk_full
    } else if (code.starts_with("23")) {
      kind = DbError::Kind::kConstraint;  // integrity constraint violation
    } else if (code.starts_with("08") || code.starts_with("57P") || PQstatus(conn_) != CONNECTION_OK) {
      kind = DbError::Kind::kUnavailable;  // connection exception, server shutting down
    }
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    throw DbError("sql failed (" + std::string(sql.substr(0, 60)) + "): " + msg + (code.empty() ? "" : " [" + code + "]"),
                  kind);
  }

  std::string url_, schema_;
  PGconn* conn_ = nullptr;
  std::uint64_t generation_ = 0;
  bool in_transaction_ = false;
  std::int64_t changes_ = 0;
  std::unordered_map<std::string, std::string> prepared_;
  std::map<std::string, std::uint64_t> leading_;
};

bool PgCursor::step() {
  if (!result_) {
    result_ = conn_.run_prepared(sql_, params_);
    row_ = 0;
  } else {
    ++row_;
  }
  return row_ < PQntuples(result_);
}

}  // namespace

std::unique_ptr<Connection> open_postgres(const std::string& url, const std::string& schema) {
  return std::make_unique<PgConnection>(url, schema);
}

}  // namespace orderflow::storage::detail
