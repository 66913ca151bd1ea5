// Parses FACTORYOPS_DATABASE_URL into its parts. Errors name the part that is wrong and
// never repeat the password. Plain value type, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "db/dialect.hpp"

namespace factoryops::db {

// Accepted forms:
//   sqlite:///relative/path.db      path relative to the working directory
//   sqlite:////absolute/path.db     (four slashes: the path itself starts with '/')
//   sqlite::memory:                 private in-memory database (tests)
//   mysql://user:pass@host:port/dbname[?socket=/path/to/socket]
//   mariadb://…                     same as mysql://
// User and password may be percent-encoded (e.g. %40 for '@'); port defaults to 3306.
struct DatabaseUrl {
  Dialect dialect = Dialect::sqlite;
  std::string path;  // sqlite: file path, or ":memory:"
  std::string user;  // mysql
  std::string password;
  std::string host;
  int port = 3306;
  std::string database;
  std::string socket;  // mysql: Unix socket instead of TCP when set

  bool in_memory() const { return dialect == Dialect::sqlite && path == ":memory:"; }
  // The URL with the password replaced by "***": safe for logs and error messages.
  std::string redacted() const;
};

// Throws core::Invalid("database_url", why) when the URL is malformed.
DatabaseUrl parse_database_url(std::string_view url);

}  // namespace factoryops::db
