#pragma once

#include <string>
#include <string_view>

// The SQL dialect differences between SQLite and PostgreSQL, all in one place. Repositories
// write one portable dialect (see README.md): `?`/`?N` placeholders, SQLite DDL types,
// ON CONFLICT ... DO NOTHING/UPDATE, RETURNING; the PostgreSQL backend translates.
namespace orderflow::storage::dialect {

struct Translated final {
  std::string sql;
  int parameters = 0;  // the highest $N used
};

// `?` -> `$1`, `$2`, ... in order; `?N` -> `$N`. String literals and quoted identifiers
// are left alone.
Translated postgres_placeholders(std::string_view sql);

// SQLite DDL -> PostgreSQL DDL: INTEGER PRIMARY KEY [AUTOINCREMENT] -> BIGINT identity,
// INTEGER -> BIGINT (SQLite integers are 64-bit), BLOB -> BYTEA.
std::string postgres_ddl(std::string_view ddl);

}  // namespace orderflow::storage::dialect
