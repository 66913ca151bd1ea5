// The audit trail as the identity code writes and reads it: who (user, address, request)
// did what. Recording goes through the caller's connection so an entry commits or rolls back
// with the change it describes. Thread-safe; the Database must outlive the service.
#pragma once

#include <optional>
#include <string>

#include "auth/context.hpp"
#include "db/audit_repository.hpp"
#include "db/database.hpp"

namespace factoryops::audit {

// Where a change came from: the acting user (if signed in), client address and request id.
struct RequestMeta {
  std::optional<std::int64_t> user_id{};
  std::optional<std::string> ip{};
  std::optional<std::string> request_id{};
};

void record(db::Connection& conn, const core::FactoryId& factory_id, const RequestMeta& meta,
            std::string action, std::string resource_type, std::optional<std::string> resource_id,
            std::string details_json = "{}");

class AuditService {
 public:
  explicit AuditService(db::Database& db) : repository_(db) {}
  // Requires view_audit_log (core::Forbidden otherwise).
  db::AuditPage list(const auth::FactoryContext& context, const db::AuditFilter& filter, db::Paging paging);

 private:
  db::AuditRepository repository_;
};

}  // namespace factoryops::audit
