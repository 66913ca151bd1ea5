#include "tsdb/embedded/sqlite_file.hpp"

#include "core/errors.hpp"

namespace factoryops::tsdb::embedded {
namespace {

// auto_vacuum must be chosen before the first table exists; it lets retention give pages back
// to the file system (incremental_vacuum) instead of only to the free list.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  device TEXT NOT NULL,
  metric TEXT NOT NULL,
  last_ts INTEGER,
  last_value REAL,
  UNIQUE (device, metric)
);
CREATE TABLE IF NOT EXISTS raw_blocks (
  series_id INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (series_id, window_start)
);
CREATE TABLE IF NOT EXISTS rollups_1m (
  series_id INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (series_id, window_start)
);
CREATE TABLE IF NOT EXISTS rollups_1h (
  series_id INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (series_id, window_start)
);
CREATE TABLE IF NOT EXISTS rollups_1d (
  series_id INTEGER NOT NULL,
  day_start INTEGER NOT NULL,
  day_end INTEGER NOT NULL,
  zone TEXT NOT NULL,
  points INTEGER NOT NULL,
  min_value REAL NOT NULL,
  max_value REAL NOT NULL,
  sum_value REAL NOT NULL,
  first_value REAL NOT NULL,
  last_value REAL NOT NULL,
  PRIMARY KEY (series_id, day_start)
);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- Whoever writes hourly rollups without maintaining day rollups (an engine of an earlier
-- version opening this file) removes the mark that says the day rollups are complete, so the
-- next engine that maintains them rebuilds them instead of trusting stale days.
CREATE TRIGGER IF NOT EXISTS hour_rollups_written AFTER INSERT ON rollups_1h
BEGIN
  DELETE FROM meta WHERE key = 'day_rollups';
END;
)sql";

}  // namespace

SqliteFile::SqliteFile(const std::filesystem::path& path) {
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw core::Unavailable("telemetry file: " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA auto_vacuum=INCREMENTAL");
  exec("PRAGMA journal_mode=WAL");
  // The engine's own log makes writes durable; SQLite only needs to stay consistent.
  exec("PRAGMA synchronous=NORMAL");
  exec(kSchema);
}

SqliteFile::~SqliteFile() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

void SqliteFile::fail(const char* what) {
  throw core::Unavailable(std::string("telemetry file: ") + what + ": " + sqlite3_errmsg(db_));
}

void SqliteFile::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error ? error : "unknown error";
    sqlite3_free(error);
    throw core::Unavailable("telemetry file: " + why);
  }
}

sqlite3_stmt* SqliteFile::statement(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
    fail("prepare");
  statements_.emplace(sql, stmt);
  return stmt;
}

StatementUse& StatementUse::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) file_.fail("bind");
  return *this;
}
StatementUse& StatementUse::bind(int index, double value) {
  if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) file_.fail("bind");
  return *this;
}
StatementUse& StatementUse::bind(int index, const std::string& value) {
  if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    file_.fail("bind");
  return *this;
}
StatementUse& StatementUse::bind(int index, std::span<const std::uint8_t> blob) {
  if (sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    file_.fail("bind");
  return *this;
}

bool StatementUse::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) file_.fail("step");
  return false;
}

std::string StatementUse::text(int column) {
  const auto* p = sqlite3_column_text(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
           : std::string();
}

std::span<const std::uint8_t> StatementUse::blob(int column) {
  const void* p = sqlite3_column_blob(stmt_, column);
  auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
  return {static_cast<const std::uint8_t*>(p), n};
}

}  // namespace factoryops::tsdb::embedded
