#include "db/dialect.hpp"

namespace factoryops::db {
namespace {

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string insert_prefix(std::string_view table, const std::vector<std::string>& columns) {
  std::string placeholders;
  for (std::size_t i = 0; i < columns.size(); ++i) placeholders += i == 0 ? "?" : ", ?";
  return "INSERT INTO " + std::string(table) + " (" + joined(columns, ", ") + ") VALUES (" + placeholders +
         ")";
}

}  // namespace

std::string_view dialect_name(Dialect dialect) {
  return dialect == Dialect::sqlite ? "sqlite" : "mysql";
}

std::string upsert_sql(Dialect dialect, std::string_view table, const std::vector<std::string>& columns,
                       const std::vector<std::string>& conflict_columns,
                       const std::vector<std::string>& update_columns) {
  if (update_columns.empty()) return insert_if_absent_sql(dialect, table, columns, conflict_columns);
  std::string sql = insert_prefix(table, columns);
  std::vector<std::string> sets;
  for (const auto& c : update_columns) {
    // VALUES(col) is deprecated in MySQL 8.0.20 in favour of row aliases, but MariaDB has
    // no row aliases; VALUES() works in both and is what keeps one text per dialect.
    sets.push_back(c + " = " + (dialect == Dialect::sqlite ? "excluded." + c : "VALUES(" + c + ")"));
  }
  if (dialect == Dialect::sqlite) {
    sql += " ON CONFLICT (" + joined(conflict_columns, ", ") + ") DO UPDATE SET " + joined(sets, ", ");
  } else {
    sql += " ON DUPLICATE KEY UPDATE " + joined(sets, ", ");
  }
  return sql;
}

std::string insert_if_absent_sql(Dialect dialect, std::string_view table,
                                 const std::vector<std::string>& columns,
                                 const std::vector<std::string>& conflict_columns) {
  if (dialect == Dialect::sqlite) {
    return insert_prefix(table, columns) + " ON CONFLICT (" + joined(conflict_columns, ", ") + ") DO NOTHING";
  }
  // Connections use CLIENT_FOUND_ROWS (so UPDATE counts matched rows, as SQLite does); with
  // it, ON DUPLICATE KEY UPDATE k = k reports 1 for an existing row and the caller could not
  // tell a new row from an old one. INSERT IGNORE reports 0. Its drawback, that MySQL also
  // demotes other errors (foreign keys, bad values) to warnings, is documented in the header.
  return "INSERT IGNORE" + insert_prefix(table, columns).substr(6);
}

}  // namespace factoryops::db
