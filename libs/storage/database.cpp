#include "libs/storage/database.hpp"

#include "libs/common/settings.hpp"

namespace orderflow::storage {

Location parse_url(const std::string& url) {
  auto starts = [&](std::string_view p) { return url.starts_with(p); };
  if (starts("postgresql://") || starts("postgres://")) return {Backend::kPostgres, url};
  if (starts("sqlite:")) {
    std::string rest = url.substr(7);
    if (rest.starts_with("//")) rest = rest.substr(2);  // sqlite:///abs -> /abs; sqlite://rel -> rel
    if (rest.empty()) throw DbError("database URL '" + url + "' names no file", DbError::Kind::kUnavailable);
    return {Backend::kSqlite, rest};
  }
  if (url.find("://") != std::string::npos) {
    throw DbError("unsupported database URL scheme (use postgresql:// or sqlite://)", DbError::Kind::kUnavailable);
  }
  return {Backend::kSqlite, url};
}

std::string database_url(const Settings& settings, const std::string& default_sqlite_path) {
  auto url = settings.str("database-url", "");
  return url.empty() ? settings.str("db-path", default_sqlite_path) : url;
}

Database::Database(const std::string& url, const std::string& schema) {
  auto location = parse_url(url);
  backend_ = location.backend;
  conn_ = backend_ == Backend::kPostgres ? detail::open_postgres(location.target, schema)
                                         : detail::open_sqlite(location.target);
}

Database::~Database() = default;

void Database::exec(std::string_view sql) { conn_->exec(sql); }
Statement Database::prepare(std::string_view sql) { return Statement(conn_->prepare(sql)); }
std::int64_t Database::changes() const { return conn_->changes(); }
void Database::migrate(std::span<const std::string_view> migrations) { conn_->migrate(migrations); }
std::string_view Database::for_update() const { return backend_ == Backend::kPostgres ? " FOR UPDATE" : ""; }
bool Database::try_lead(std::string_view role) { return conn_->try_lead(role); }

Status Database::ping() {
  try {
    auto guard = lock();
    if (!prepare("SELECT 1").step()) return Error{"db-unavailable", "SELECT 1 returned no row", true};
    conn_->probe_write();
    return ok_status();
  } catch (const DbError& e) {
    return Error{e.kind() == DbError::Kind::kFull ? "db-full" : "db-unavailable", e.what(), true};
  } catch (const std::exception& e) {
    return Error{"db-unavailable", e.what(), true};
  }
}

}  // namespace orderflow::storage
