// Versioned schema migrations, one ordered set of SQL files per dialect, compiled into the
// binary from src/db/migrations/{sqlite,mysql}/NNNN_name.sql. migrate() applies the pending
// ones and records them in schema_migrations; safe to run from several processes at once
// (MySQL: GET_LOCK; SQLite: BEGIN IMMEDIATE). Free functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "db/database.hpp"

namespace factoryops::db {

struct Migration {
  std::int64_t version = 0;  // the NNNN prefix
  std::string name;          // file name without ".sql", e.g. "0001_initial"
  std::string sql;
};

// SHA-256 of the migration text, lowercase hex: what schema_migrations.checksum records.
std::string migration_checksum(const Migration& migration);

// The migrations compiled in for `dialect`, ordered by version.
std::vector<Migration> embedded_migrations(Dialect dialect);

// The schema cannot be brought up to date without a person: a recorded migration's file
// changed, a migration stopped half-way (MySQL DDL is not transactional), or one failed.
class MigrationError : public core::Error {
 public:
  explicit MigrationError(std::string message) : core::Error(core::ErrorKind::internal, std::move(message)) {}
};

// Applies every pending migration in version order, each in its own transaction where the
// dialect allows. Returns the names applied by this call (empty when already up to date).
// Throws MigrationError before changing anything if an applied migration's checksum no
// longer matches or a previous run left one half-applied.
std::vector<std::string> migrate(Database& db);
std::vector<std::string> migrate(Database& db, const std::vector<Migration>& migrations);

enum class MigrationState {
  applied,
  pending,
  half_applied,  // started but never finished (MySQL only; see docs/database-schema.md)
  changed,       // applied, but the file's checksum differs from the recorded one
  unknown,       // recorded in the database, absent from this binary (a newer release ran)
};

std::string_view migration_state_name(MigrationState state);

struct MigrationStatus {
  std::int64_t version = 0;
  std::string name;
  MigrationState state = MigrationState::pending;
  std::optional<std::int64_t> applied_at_ms;
};

// One entry per migration known to the binary or recorded in the database, by version.
// Read-only: works on a database that was never migrated.
std::vector<MigrationStatus> migration_status(Database& db);
std::vector<MigrationStatus> migration_status(Database& db, const std::vector<Migration>& migrations);

}  // namespace factoryops::db
