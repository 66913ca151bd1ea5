#include "audit/audit_service.hpp"

namespace factoryops::audit {

void record(db::Connection& conn, const core::FactoryId& factory_id, const RequestMeta& meta,
            std::string action, std::string resource_type, std::optional<std::string> resource_id,
            std::string details_json) {
  db::AuditEntry entry;
  entry.user_id = meta.user_id;
  entry.action = std::move(action);
  entry.resource_type = std::move(resource_type);
  entry.resource_id = std::move(resource_id);
  entry.details_json = std::move(details_json);
  // The ip column holds up to 45 characters (IPv6 text form); anything longer is not an address.
  if (meta.ip && meta.ip->size() <= 45) entry.ip = meta.ip;
  if (meta.request_id && meta.request_id->size() <= 64) entry.request_id = meta.request_id;
  db::AuditRepository::record(conn, factory_id, entry);
}

db::AuditPage AuditService::list(const auth::FactoryContext& context, const db::AuditFilter& filter,
                                 db::Paging paging) {
  context.require(auth::Action::view_audit_log);
  return repository_.search(context.factory_id, filter, paging);
}

}  // namespace factoryops::audit
