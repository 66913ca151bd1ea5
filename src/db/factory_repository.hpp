// Factories (tenants): creation, lookup, listing. The one table that is not itself
// tenant-scoped, since a factory row *is* the tenant. Thread-safe (each call borrows a
// pooled connection); the Database must outlive the repository.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/ids.hpp"
#include "db/database.hpp"

namespace factoryops::db {

struct Factory {
  core::FactoryId id;
  std::string name;
  std::string timezone = "UTC";  // IANA name, e.g. "Europe/Berlin"
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

// A factory's own telemetry retention (days); nullopt = the configured default.
struct RetentionOverride {
  std::optional<int> raw_days{};
  std::optional<int> rollup_days{};
  friend bool operator==(const RetentionOverride&, const RetentionOverride&) = default;
};

class FactoryRepository {
 public:
  explicit FactoryRepository(Database& db) : db_(db) {}

  // Inserts `factory` with created_at/updated_at set to now (the given values are
  // ignored) and returns the stored row. core::Invalid for an empty or over-long name or a
  // malformed timezone; core::Conflict when the id is taken.
  Factory create(const Factory& factory);
  std::optional<Factory> find(const core::FactoryId& id);
  // Every factory, ordered by id. For administration (super admin, CLI), not tenant code.
  std::vector<Factory> list();

  // The retention columns of one factory; nullopt when there is no such factory.
  std::optional<RetentionOverride> retention(const core::FactoryId& id);
  static std::optional<RetentionOverride> retention(Connection& conn, const core::FactoryId& id);
  // Every factory's retention columns, ordered by id (the retention scheduler).
  std::vector<std::pair<core::FactoryId, RetentionOverride>> list_retention();
  // Writes both columns inside the caller's transaction; false when there is no such factory.
  // Ranges are the caller's to check (the schema's CHECK constraints back them up).
  static bool set_retention(Connection& conn, const core::FactoryId& id, const RetentionOverride& retention);

 private:
  Database& db_;
};

// Checks shape only (no tz database lookup): "UTC", "Europe/Berlin", "America/Argentina/Salta".
bool is_plausible_timezone(std::string_view name);

}  // namespace factoryops::db
