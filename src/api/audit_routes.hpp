// HTTP route of the audit trail (docs/api-identity.md, "Audit log"): GET /api/v1/audit-log,
// super admin only (Action::view_audit_log), paged and filterable.
#pragma once

#include "audit/audit_service.hpp"
#include "auth/authenticator.hpp"
#include "http/router.hpp"

namespace factoryops::api {

// The router keeps references: `authenticator` and `audit` must outlive it.
void register_audit_routes(http::Router& router, const auth::Authenticator& authenticator,
                           audit::AuditService& audit);

}  // namespace factoryops::api
