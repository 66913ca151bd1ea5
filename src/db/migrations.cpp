#include "db/migrations.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "core/logging.hpp"
#include "core/resources.hpp"
#include "db/clock.hpp"

namespace factoryops::db {
namespace {

constexpr std::string_view kSqliteBookkeeping = R"(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER NOT NULL PRIMARY KEY,
  name        TEXT    NOT NULL,
  checksum    TEXT    NOT NULL,
  started_at  INTEGER NOT NULL,
  applied_at  INTEGER
) STRICT)";

constexpr std::string_view kMysqlBookkeeping = R"(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     BIGINT       NOT NULL,
  name        VARCHAR(255) NOT NULL,
  checksum    CHAR(64)     NOT NULL,
  started_at  BIGINT       NOT NULL,
  applied_at  BIGINT       NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)";

// How long a second migrating process waits for the first one before giving up.
constexpr std::chrono::seconds kLockWait{120};

struct Recorded {
  std::string name;
  std::string checksum;
  std::optional<std::int64_t> applied_at;
};

std::map<std::int64_t, Recorded> read_recorded(Connection& conn) {
  std::map<std::int64_t, Recorded> out;
  for (const auto& row : conn.query("SELECT version, name, checksum, applied_at FROM schema_migrations")) {
    out[row.get_int(0)] = {row.get_string(1), row.get_string(2), row.get_optional_int(3)};
  }
  return out;
}

bool bookkeeping_exists(Connection& conn) {
  if (conn.dialect() == Dialect::sqlite) {
    return conn.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        .has_value();
  }
  return conn
      .query_one(
          "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = "
          "'schema_migrations'")
      .has_value();
}

void check_sorted(const std::vector<Migration>& migrations) {
  for (std::size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version <= migrations[i - 1].version) {
      throw MigrationError("migrations " + migrations[i - 1].name + " and " + migrations[i].name +
                           " are out of order or share a version number");
    }
  }
}

std::string half_applied_message(std::int64_t version, const Recorded& r) {
  return "migration " + r.name + " (version " + std::to_string(version) +
         ") was started but never finished. MySQL commits each DDL statement on its own, so "
         "the statements before the failing one are in place. Compare the schema with the "
         "migration file, complete or undo it by hand, then run: DELETE FROM schema_migrations "
         "WHERE version = " +
         std::to_string(version) +
         "; and migrate again (or, if you completed it, UPDATE "
         "schema_migrations SET applied_at = <epoch ms> WHERE version = " +
         std::to_string(version) + ").";
}

// Refuses to go on when the recorded history and the files disagree.
void check_history(const std::map<std::int64_t, Recorded>& recorded,
                   const std::vector<Migration>& migrations) {
  for (const auto& [version, r] : recorded) {
    if (!r.applied_at) throw MigrationError(half_applied_message(version, r));
  }
  for (const auto& m : migrations) {
    auto it = recorded.find(m.version);
    if (it == recorded.end()) continue;
    const std::string sum = migration_checksum(m);
    if (it->second.checksum != sum) {
      throw MigrationError("migration " + m.name + " was modified after it was applied (recorded checksum " +
                           it->second.checksum.substr(0, 12) + "…, file " + sum.substr(0, 12) +
                           "…). Applied migrations are immutable: restore the file and put the change in a "
                           "new migration.");
    }
  }
}

// Serialises migrate() across processes on MySQL. The lock belongs to the session, so it
// is released when this connection closes even if the process dies.
class MysqlMigrationLock {
 public:
  explicit MysqlMigrationLock(Connection& conn) : conn_(conn) {
    auto db_name = conn_.query_one("SELECT DATABASE()");
    name_ = "factoryops_migrate." + (db_name ? db_name->get_optional_string(0).value_or("") : "");
    if (name_.size() > 64) name_.resize(64);
    auto got =
        conn_.query_one("SELECT GET_LOCK(?, ?)", {name_, static_cast<std::int64_t>(kLockWait.count())});
    if (!got || got->is_null(0) || got->get_int(0) != 1) {
      throw core::Unavailable("another process has been migrating this database for over " +
                              std::to_string(kLockWait.count()) + " s (lock " + name_ + ")");
    }
  }
  ~MysqlMigrationLock() {
    try {
      conn_.query("SELECT RELEASE_LOCK(?)", {name_});
    } catch (const std::exception& e) {
      log::warn("could not release the migration lock", {{"error", e.what()}});
    }
  }
  MysqlMigrationLock(const MysqlMigrationLock&) = delete;
  MysqlMigrationLock& operator=(const MysqlMigrationLock&) = delete;

 private:
  Connection& conn_;
  std::string name_;
};

// SQLite: BEGIN IMMEDIATE waits only busy_timeout for the write lock; another process may
// hold it for a whole (long) migration, so keep trying up to kLockWait.
std::unique_ptr<Transaction> begin_sqlite_migration(Connection& conn) {
  const auto deadline = std::chrono::steady_clock::now() + kLockWait;
  while (true) {
    try {
      return std::make_unique<Transaction>(conn);
    } catch (const core::Unavailable&) {
      if (std::chrono::steady_clock::now() >= deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace

std::string migration_checksum(const Migration& migration) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(migration.sql.data(), migration.sql.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw MigrationError("cannot compute SHA-256 of migration " + migration.name);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0f];
  }
  return out;
}

std::vector<Migration> embedded_migrations(Dialect dialect) {
  const std::string prefix = "db/migrations/" + std::string(dialect_name(dialect)) + "/";
  std::vector<Migration> out;
  for (const auto& resource : core::resources_under(prefix)) {
    std::string_view file = resource.name.substr(prefix.size());
    if (!file.ends_with(".sql") || file.find('/') != std::string_view::npos) continue;
    Migration m;
    m.name = std::string(file.substr(0, file.size() - 4));
    std::size_t digits = 0;
    while (digits < m.name.size() && m.name[digits] >= '0' && m.name[digits] <= '9') ++digits;
    if (digits == 0 || digits > 9 || digits >= m.name.size() || m.name[digits] != '_') {
      throw MigrationError("migration file " + std::string(resource.name) +
                           " is not named NNNN_description.sql");
    }
    m.version = std::stoll(m.name.substr(0, digits));
    m.sql = std::string(resource.content);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  check_sorted(out);
  return out;
}

std::vector<std::string> migrate(Database& db) {
  return migrate(db, embedded_migrations(db.dialect()));
}

std::vector<std::string> migrate(Database& db, const std::vector<Migration>& migrations) {
  check_sorted(migrations);
  auto conn = db.acquire();
  const bool sqlite = conn->dialect() == Dialect::sqlite;
  conn->execute_script(sqlite ? kSqliteBookkeeping : kMysqlBookkeeping);

  std::optional<MysqlMigrationLock> lock;
  if (!sqlite) lock.emplace(*conn);

  // Checked once up front so a bad history stops the run before anything changes.
  check_history(read_recorded(*conn), migrations);

  std::vector<std::string> applied;
  for (const auto& m : migrations) {
    std::unique_ptr<Transaction> tx;
    if (sqlite) tx = begin_sqlite_migration(*conn);
    // Re-read inside the transaction (SQLite) or under the lock (MySQL): another process
    // may have applied this version since the check above.
    auto recorded = read_recorded(*conn);
    if (recorded.count(m.version) != 0) {
      check_history(recorded, migrations);
      continue;
    }
    const std::string checksum = migration_checksum(m);
    // The row exists with applied_at NULL while the migration runs; on MySQL, where a
    // failure cannot be rolled back, it stays that way and the next run reports it.
    conn->execute(
        "INSERT INTO schema_migrations (version, name, checksum, started_at, applied_at) VALUES (?, ?, ?, ?, "
        "NULL)",
        {m.version, m.name, checksum, now_ms()});
    try {
      conn->execute_script(m.sql);
    } catch (const std::exception& e) {
      std::string what = "migration " + m.name + " failed: " + e.what();
      if (sqlite) {
        what += " (rolled back; nothing was changed)";
      } else {
        what += ". " + half_applied_message(m.version, {m.name, checksum, std::nullopt});
      }
      log::error("migration failed", {{"migration", m.name}, {"db", db.redacted_url()}, {"error", e.what()}});
      throw MigrationError(what);
    }
    conn->execute("UPDATE schema_migrations SET applied_at = ? WHERE version = ?", {now_ms(), m.version});
    if (tx) tx->commit();
    log::info("applied migration", {{"migration", m.name}, {"db", db.redacted_url()}});
    applied.push_back(m.name);
  }
  return applied;
}

std::string_view migration_state_name(MigrationState state) {
  switch (state) {
    case MigrationState::applied: return "applied";
    case MigrationState::pending: return "pending";
    case MigrationState::half_applied: return "half-applied";
    case MigrationState::changed: return "changed";
    case MigrationState::unknown: return "unknown";
  }
  return "unknown";
}

std::vector<MigrationStatus> migration_status(Database& db) {
  return migration_status(db, embedded_migrations(db.dialect()));
}

std::vector<MigrationStatus> migration_status(Database& db, const std::vector<Migration>& migrations) {
  auto conn = db.acquire();
  std::map<std::int64_t, Recorded> recorded;
  if (bookkeeping_exists(*conn)) recorded = read_recorded(*conn);
  std::map<std::int64_t, MigrationStatus> out;
  for (const auto& m : migrations) {
    MigrationStatus s{m.version, m.name, MigrationState::pending, std::nullopt};
    if (auto it = recorded.find(m.version); it != recorded.end()) {
      s.applied_at_ms = it->second.applied_at;
      if (!it->second.applied_at) {
        s.state = MigrationState::half_applied;
      } else if (it->second.checksum != migration_checksum(m)) {
        s.state = MigrationState::changed;
      } else {
        s.state = MigrationState::applied;
      }
    }
    out[m.version] = std::move(s);
  }
  for (const auto& [version, r] : recorded) {
    if (out.count(version) != 0) continue;
    out[version] = {version, r.name, r.applied_at ? MigrationState::unknown : MigrationState::half_applied,
                    r.applied_at};
  }
  std::vector<MigrationStatus> list;
  for (auto& [version, s] : out) list.push_back(std::move(s));
  return list;
}

}  // namespace factoryops::db
