// SQLite implementation of db::Connection (one sqlite3 handle, WAL, foreign keys on).
// Not thread-safe: one thread at a time, as handed out by db::Database. Lives until the
// pool discards it.
#pragma once

#include <memory>

#include "db/database.hpp"

namespace factoryops::db::sqlite {

// Opens (creating the file and its parent directory if needed) and configures a
// connection. Throws core::Unavailable when the file cannot be opened.
std::unique_ptr<Connection> open_connection(const DatabaseUrl& url, const DatabaseOptions& options);

}  // namespace factoryops::db::sqlite
