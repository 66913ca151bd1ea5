// MySQL/MariaDB implementation of db::Connection over MariaDB Connector/C prepared
// statements. Not thread-safe: one thread at a time, as handed out by db::Database. A
// connection that lost its server reports broken() and is discarded by the pool.
#pragma once

#include <memory>

#include "db/database.hpp"

namespace factoryops::db::mysql {

// Connects with the options' connect/read/write timeouts, utf8mb4, strict SQL mode and UTC
// session time zone. Throws core::Unavailable when the server cannot be reached or refuses.
std::unique_ptr<Connection> open_connection(const DatabaseUrl& url, const DatabaseOptions& options);

}  // namespace factoryops::db::mysql
