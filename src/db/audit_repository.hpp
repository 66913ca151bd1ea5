// The audit trail of one factory: who did what to which resource, appended and listed
// newest first. Every call takes the FactoryId first and every query filters by it.
// Thread-safe (each call borrows a pooled connection unless given one); the Database must
// outlive the repository.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "db/database.hpp"

namespace factoryops::db {

struct AuditEntry {
  std::optional<std::int64_t> user_id{};  // nullopt for system actions (scheduler, devices)
  std::string action{};                   // e.g. "device.create", "user.login"
  std::string resource_type{};            // e.g. "device"
  std::optional<std::string> resource_id{};
  std::string details_json = "{}";  // a JSON object; must never hold secrets
  std::optional<std::string> ip{};
  std::optional<std::string> request_id{};
};

struct AuditRecord {
  std::int64_t id = 0;
  core::FactoryId factory_id;
  AuditEntry entry;
  std::int64_t created_at_ms = 0;
};

struct Paging {
  static constexpr std::int64_t kMaxLimit = 500;
  std::int64_t limit = 50;  // 1..kMaxLimit
  std::int64_t offset = 0;  // >= 0
};

// Filters of search(); every one optional. Times are inclusive bounds in ms.
struct AuditFilter {
  std::optional<std::string> action{};
  std::optional<std::int64_t> user_id{};
  std::optional<std::int64_t> from_ms{};
  std::optional<std::int64_t> to_ms{};
};

struct AuditListItem {
  AuditRecord record;
  std::optional<std::string> user_email;  // the user's current email, when user_id names one
};

struct AuditPage {
  std::vector<AuditListItem> items;
  std::int64_t total = 0;  // entries matching the filter, ignoring paging
};

class AuditRepository {
 public:
  explicit AuditRepository(Database& db) : db_(db) {}

  // Appends an entry stamped now; returns it with its id. core::Invalid when action or
  // resource_type is empty or too long. The overload taking a Connection writes inside the
  // caller's transaction, so the audit line commits or rolls back with the change itself.
  AuditRecord record(const core::FactoryId& factory_id, const AuditEntry& entry);
  static AuditRecord record(Connection& conn, const core::FactoryId& factory_id, const AuditEntry& entry);

  // Newest first (created_at, then id, descending). core::Invalid for out-of-range paging.
  std::vector<AuditRecord> list(const core::FactoryId& factory_id, Paging paging = {});
  std::int64_t count(const core::FactoryId& factory_id);
  // Newest first, filtered, with the acting user's email. core::Invalid for bad paging.
  AuditPage search(const core::FactoryId& factory_id, const AuditFilter& filter, Paging paging = {});

 private:
  Database& db_;
};

}  // namespace factoryops::db
