// Database: a pool of connections to one SQLite file or one MySQL/MariaDB database, and the
// Connection/Transaction API that repositories use with the same SQL text for both dialects.
// Database is thread-safe and must outlive every PooledConnection taken from it; a
// Connection is used by one thread at a time (the pool guarantees it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/dialect.hpp"
#include "db/url.hpp"
#include "db/value.hpp"

namespace factoryops::db {

struct DatabaseOptions {
  std::size_t pool_size = 8;  // forced to 1 for sqlite::memory: (each connection is its own database)
  std::chrono::milliseconds acquire_timeout{5000};  // waiting for a free connection
  std::chrono::milliseconds connect_timeout{2000};  // MySQL TCP connect
  std::chrono::milliseconds read_timeout{30000};    // MySQL: one socket read (bounds a query)
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds busy_timeout{5000};  // SQLite: waiting for the write lock
  std::chrono::milliseconds ping_timeout{2000};  // connect/read/write bound of ping()
  // MySQL connections idle longer than this are pinged before reuse, so one dropped by the
  // server (wait_timeout, restart) is replaced instead of failing the caller's statement.
  std::chrono::milliseconds revalidate_after{std::chrono::seconds(30)};
};

struct ExecResult {
  std::int64_t affected_rows = 0;   // rows matched by UPDATE/DELETE, rows inserted by INSERT
  std::int64_t last_insert_id = 0;  // AUTO_INCREMENT / rowid of the last INSERT, else 0
};

// Parameters are bound to `?` placeholders in order; their count must match. Errors:
// core::Conflict (unique or primary key violated), core::Unavailable (server unreachable,
// connection lost, SQLite busy beyond busy_timeout), DbError (anything else).
class Connection {
 public:
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Dialect dialect() const { return dialect_; }

  ExecResult execute(std::string_view sql, std::initializer_list<Param> params = {}) {
    return execute(sql, to_values(params));
  }
  virtual ExecResult execute(std::string_view sql, const std::vector<Value>& params) = 0;

  std::vector<Row> query(std::string_view sql, std::initializer_list<Param> params = {}) {
    return query(sql, to_values(params));
  }
  virtual std::vector<Row> query(std::string_view sql, const std::vector<Value>& params) = 0;

  // The first row, or nullopt when the result is empty.
  std::optional<Row> query_one(std::string_view sql, std::initializer_list<Param> params = {}) {
    return query_one(sql, to_values(params));
  }
  std::optional<Row> query_one(std::string_view sql, const std::vector<Value>& params);

  // Runs a script of ';'-separated statements without parameters (migrations). Stops at
  // the first failing statement; the error says which one (by number and first line).
  virtual void execute_script(std::string_view script) = 0;

  // Round trip to the server; false (and broken() afterwards) when it does not answer.
  virtual bool ping() = 0;
  // True once the driver reported a lost connection: the pool discards it.
  virtual bool broken() const = 0;

  // Transaction control; prefer the RAII Transaction below.
  void begin();
  void commit();
  void rollback();
  bool in_transaction() const { return in_transaction_; }

  std::chrono::steady_clock::time_point last_used() const { return last_used_; }
  void touch() { last_used_ = std::chrono::steady_clock::now(); }

 protected:
  explicit Connection(Dialect dialect) : dialect_(dialect) {}
  // Runs one parameterless control statement (BEGIN, COMMIT, …).
  virtual void execute_plain(std::string_view sql) = 0;

 private:
  static std::vector<Value> to_values(std::initializer_list<Param> params);

  Dialect dialect_;
  bool in_transaction_ = false;
  std::chrono::steady_clock::time_point last_used_ = std::chrono::steady_clock::now();
};

// Opens a transaction (SQLite: BEGIN IMMEDIATE, i.e. takes the write lock up front so two
// writers never deadlock on lock upgrade; MySQL: START TRANSACTION) and rolls it back on
// destruction unless commit() was called. MySQL DDL commits implicitly: keep DDL out.
class Transaction {
 public:
  explicit Transaction(Connection& connection);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();
  void rollback();

 private:
  Connection& connection_;
  bool open_ = true;
};

class Database;

// A connection borrowed from the pool; returned (or discarded if broken) on destruction.
class PooledConnection {
 public:
  PooledConnection(PooledConnection&& other) noexcept;
  PooledConnection& operator=(PooledConnection&&) = delete;
  PooledConnection(const PooledConnection&) = delete;
  ~PooledConnection();

  Connection& operator*() const { return *connection_; }
  Connection* operator->() const { return connection_.get(); }

 private:
  friend class Database;
  PooledConnection(Database* owner, std::unique_ptr<Connection> connection)
      : owner_(owner), connection_(std::move(connection)) {}

  Database* owner_;
  std::unique_ptr<Connection> connection_;
};

class Database {
 public:
  // Parses the URL (core::Invalid on a malformed one). SQLite opens one connection right
  // away, so a bad path fails here (core::Unavailable); MySQL connects lazily, so the
  // process can start while the server is down and report it through ping().
  static std::unique_ptr<Database> open(std::string_view url, DatabaseOptions options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Waits up to options.acquire_timeout (or `timeout`) for a connection; opens a new one
  // while fewer than pool_size exist. core::Unavailable when none can be had.
  PooledConnection acquire();
  PooledConnection acquire(std::chrono::milliseconds timeout);

  // Health check on a dedicated connection, bounded by options.ping_timeout. Never throws.
  bool ping();

  Dialect dialect() const { return url_.dialect; }
  std::string_view backend_name() const { return dialect_name(url_.dialect); }
  const std::string& redacted_url() const { return redacted_url_; }
  const DatabaseOptions& options() const { return options_; }

  // Connections currently open (idle + borrowed); for metrics and tests.
  std::size_t open_connections() const;

 private:
  friend class PooledConnection;
  Database(DatabaseUrl url, DatabaseOptions options);
  std::unique_ptr<Connection> connect(const DatabaseOptions& options) const;
  void release(std::unique_ptr<Connection> connection) noexcept;

  const DatabaseUrl url_;
  const std::string redacted_url_;
  const DatabaseOptions options_;

  mutable std::mutex mutex_;  // guards idle_ and open_count_
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_count_ = 0;

  std::mutex health_mutex_;  // guards health_
  std::unique_ptr<Connection> health_;
};

}  // namespace factoryops::db
