// The two SQL dialects FactoryOps speaks and the few statements whose text differs between
// them (upsert, insert-if-absent). Repositories write every other statement once, in the
// common subset (`?` placeholders, LIMIT ? OFFSET ?, booleans bound as 0/1). Stateless.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace factoryops::db {

enum class Dialect { sqlite, mysql };

// "sqlite" | "mysql" (MariaDB reports "mysql": one wire protocol, one dialect).
std::string_view dialect_name(Dialect dialect);

// INSERT INTO table (columns…) VALUES (?, …) that, when a row with the same
// `conflict_columns` exists, updates `update_columns` to the new values instead.
// conflict_columns must match a PRIMARY KEY or UNIQUE index (MySQL infers it). Affected
// rows is > 0 whether the row was inserted or updated (the exact count differs by dialect).
std::string upsert_sql(Dialect dialect, std::string_view table, const std::vector<std::string>& columns,
                       const std::vector<std::string>& conflict_columns,
                       const std::vector<std::string>& update_columns);

// INSERT INTO table (columns…) VALUES (?, …) that does nothing when a row with the same key
// already exists: affected rows is 1 for a new row, 0 otherwise, in both dialects. On MySQL
// this is INSERT IGNORE, which also turns foreign-key and conversion errors into warnings:
// validate references before relying on it.
std::string insert_if_absent_sql(Dialect dialect, std::string_view table,
                                 const std::vector<std::string>& columns,
                                 const std::vector<std::string>& conflict_columns);

}  // namespace factoryops::db
