#include "db/database.hpp"

#include "core/logging.hpp"
#include "db/mysql/mysql_connection.hpp"
#include "db/sqlite/sqlite_connection.hpp"

namespace factoryops::db {

std::vector<Value> Connection::to_values(std::initializer_list<Param> params) {
  std::vector<Value> out;
  out.reserve(params.size());
  for (const auto& p : params) out.push_back(p.value());
  return out;
}

std::optional<Row> Connection::query_one(std::string_view sql, const std::vector<Value>& params) {
  auto rows = query(sql, params);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

void Connection::begin() {
  if (in_transaction_) throw DbError("a transaction is already open on this connection");
  execute_plain(dialect_ == Dialect::sqlite ? "BEGIN IMMEDIATE" : "START TRANSACTION");
  in_transaction_ = true;
}

void Connection::commit() {
  if (!in_transaction_) throw DbError("commit without an open transaction");
  // Whatever the outcome, the transaction is over: a failed COMMIT has rolled back (MySQL)
  // or leaves SQLite in autocommit after our ROLLBACK in the Transaction destructor.
  in_transaction_ = false;
  try {
    execute_plain("COMMIT");
  } catch (...) {
    try {
      execute_plain("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

void Connection::rollback() {
  if (!in_transaction_) return;
  in_transaction_ = false;
  execute_plain("ROLLBACK");
}

Transaction::Transaction(Connection& connection) : connection_(connection) {
  connection_.begin();
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    connection_.rollback();
  } catch (const std::exception& e) {
    // A rollback that fails means the connection is unusable; the driver has marked it
    // broken (so the pool drops it) or the server already rolled back.
    log::warn("transaction rollback failed", {{"error", e.what()}});
  }
}

void Transaction::commit() {
  open_ = false;
  connection_.commit();
}

void Transaction::rollback() {
  open_ = false;
  connection_.rollback();
}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : owner_(other.owner_), connection_(std::move(other.connection_)) {
  other.owner_ = nullptr;
}

PooledConnection::~PooledConnection() {
  if (owner_ != nullptr && connection_) owner_->release(std::move(connection_));
}

Database::Database(DatabaseUrl url, DatabaseOptions options)
    : url_(std::move(url)), redacted_url_(url_.redacted()), options_(std::move(options)) {}

Database::~Database() = default;

std::unique_ptr<Database> Database::open(std::string_view url, DatabaseOptions options) {
  DatabaseUrl parsed = parse_database_url(url);
  if (options.pool_size == 0) throw core::Invalid("pool_size", "must be at least 1");
  if (parsed.in_memory()) options.pool_size = 1;
  std::unique_ptr<Database> db(new Database(std::move(parsed), options));
  if (db->dialect() == Dialect::sqlite) {
    db->idle_.push_back(db->connect(db->options_));
    db->open_count_ = 1;
  }
  return db;
}

std::unique_ptr<Connection> Database::connect(const DatabaseOptions& options) const {
  if (url_.dialect == Dialect::sqlite) return sqlite::open_connection(url_, options);
  return mysql::open_connection(url_, options);
}

PooledConnection Database::acquire() {
  return acquire(options_.acquire_timeout);
}

PooledConnection Database::acquire(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (true) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      const bool stale = std::chrono::steady_clock::now() - conn->last_used() > options_.revalidate_after;
      if (url_.dialect == Dialect::mysql && stale) {
        lock.unlock();
        const bool alive = conn->ping();
        lock.lock();
        if (!alive) {
          --open_count_;
          log::info("discarded a dead idle database connection", {{"db", redacted_url_}});
          continue;
        }
      }
      return PooledConnection(this, std::move(conn));
    }
    if (open_count_ < options_.pool_size) {
      ++open_count_;
      lock.unlock();
      try {
        return PooledConnection(this, connect(options_));
      } catch (...) {
        lock.lock();
        --open_count_;
        available_.notify_one();
        throw;
      }
    }
    if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_count_ >= options_.pool_size) {
      throw core::Unavailable("database pool exhausted: all " + std::to_string(options_.pool_size) +
                              " connections stayed busy for " + std::to_string(timeout.count()) + " ms");
    }
  }
}

void Database::release(std::unique_ptr<Connection> connection) noexcept {
  if (connection->in_transaction() && !connection->broken()) {
    try {
      connection->rollback();
    } catch (...) {
    }
  }
  const bool keep = !connection->broken() && !connection->in_transaction();
  if (keep) connection->touch();
  {
    std::lock_guard lock(mutex_);
    if (keep) {
      idle_.push_back(std::move(connection));
    } else {
      --open_count_;
    }
  }
  available_.notify_one();
  // A discarded connection is closed here, outside the lock (closing may touch the network).
}

bool Database::ping() {
  std::lock_guard lock(health_mutex_);
  try {
    const auto began = std::chrono::steady_clock::now();
    DatabaseOptions o = options_;
    o.connect_timeout = o.read_timeout = o.write_timeout = o.ping_timeout;
    o.busy_timeout = std::min(o.busy_timeout, o.ping_timeout);
    if (health_) {
      if (health_->ping()) return true;
      health_.reset();
      // A connection that failed at once (server restarted, socket closed) deserves one
      // reconnect within the remaining budget; one that timed out has used the budget up.
      const auto spent =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
      if (spent * 2 >= o.ping_timeout) return false;
      o.connect_timeout = o.read_timeout = o.write_timeout = o.ping_timeout / 2;
    }
    health_ = connect(o);
    if (health_->ping()) return true;
    health_.reset();
    return false;
  } catch (const std::exception& e) {
    health_.reset();
    log::debug("database ping failed", {{"db", redacted_url_}, {"error", e.what()}});
    return false;
  }
}

std::size_t Database::open_connections() const {
  std::lock_guard lock(mutex_);
  return open_count_;
}

}  // namespace factoryops::db
