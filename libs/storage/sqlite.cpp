#include "libs/storage/sqlite.hpp"

#include <filesystem>

namespace orderflow::storage {
namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  throw DbError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), rc);
}

}  // namespace

Database::Database(const std::string& path) {
  if (path != ":memory:") {
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
  }
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open database '" + path + "'";
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
    fail(nullptr, rc, msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec("PRAGMA foreign_keys=ON");
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

void Database::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw DbError("sql failed (" + s.substr(0, 60) + "): " + msg, rc);
  }
}

Statement Database::prepare(std::string_view sql) { return Statement(db_, sql); }

Status Database::ping() {
  try {
    auto guard = lock();
    if (!prepare("SELECT 1").step()) return Error{"db-unavailable", "SELECT 1 returned no row", true};
    return ok_status();
  } catch (const std::exception& e) {
    return Error{"db-unavailable", e.what(), true};
  }
}

void Database::migrate(std::span<const std::string_view> migrations) {
  auto version_stmt = prepare("PRAGMA user_version");
  version_stmt.step();
  auto version = static_cast<std::size_t>(version_stmt.integer(0));
  for (std::size_t i = version; i < migrations.size(); ++i) {
    Transaction tx(*this);
    exec(migrations[i]);
    exec("PRAGMA user_version=" + std::to_string(i + 1));
    tx.commit();
  }
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db_, rc, "prepare failed: " + std::string(sql.substr(0, 80)));
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Statement& Statement::bind(int i, std::int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Statement& Statement::bind_null(int i) {
  int rc = sqlite3_bind_null(stmt_, i);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc, "step");
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}

}  // namespace orderflow::storage
