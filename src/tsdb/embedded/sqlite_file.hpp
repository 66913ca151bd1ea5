// One factory's SQLite file of the embedded engine: the connection, its schema and cached
// prepared statements. Not thread-safe: the owner serialises access. Lives while the store
// keeps the factory open.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <unordered_map>

namespace factoryops::tsdb::embedded {

class SqliteFile {
 public:
  // Opens or creates the file, in WAL mode with incremental auto-vacuum. Throws core::Unavailable.
  explicit SqliteFile(const std::filesystem::path& path);
  ~SqliteFile();
  SqliteFile(const SqliteFile&) = delete;
  SqliteFile& operator=(const SqliteFile&) = delete;

  void exec(const char* sql);
  // A prepared statement for `sql`, cached by the literal's address; reset after each use by
  // StatementUse.
  sqlite3_stmt* statement(const char* sql);
  sqlite3* handle() { return db_; }
  [[noreturn]] void fail(const char* what);

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

// Binds, steps and resets one cached statement.
class StatementUse {
 public:
  StatementUse(SqliteFile& file, const char* sql) : file_(file), stmt_(file.statement(sql)) {}
  ~StatementUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

  StatementUse& bind(int index, std::int64_t value);
  StatementUse& bind(int index, double value);
  StatementUse& bind(int index, const std::string& value);
  StatementUse& bind(int index, std::span<const std::uint8_t> blob);
  // true while a row is available.
  bool step();
  std::int64_t int64(int column) { return sqlite3_column_int64(stmt_, column); }
  double real(int column) { return sqlite3_column_double(stmt_, column); }
  bool is_null(int column) { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string text(int column);
  std::span<const std::uint8_t> blob(int column);

 private:
  SqliteFile& file_;
  sqlite3_stmt* stmt_;
};

}  // namespace factoryops::tsdb::embedded
