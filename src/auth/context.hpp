// Who is calling and what they may do: roles, the admin permission flags, the one policy
// table (HLD §5.3), and the FactoryContext every tenant-scoped service function takes first.
// Value types; thread-safe. A FactoryContext lives for one request or one job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ids.hpp"

namespace factoryops::auth {

enum class Role { super_admin, admin };

std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view text);

// What a super admin may grant an admin. A super admin can do everything regardless.
struct Permissions {
  bool rules = false;      // create and edit rules
  bool analytics = false;  // run analytics jobs
  bool reports = false;    // generate reports
  bool machines = false;   // register, edit, delete machines and rotate their keys
  friend bool operator==(const Permissions&, const Permissions&) = default;
};

// {"rules":true,"analytics":false,"reports":false,"machines":true}
std::string permissions_json(const Permissions& permissions);
// Accepts an object with any subset of the four keys, each a boolean; throws core::Invalid
// naming "permissions.<key>" for anything else.
Permissions parse_permissions(std::string_view json);

// Everything a route or a job may require.
enum class Action {
  view_dashboard,
  view_machines,    // machines, their parameters and telemetry
  manage_machines,  // create, edit, delete, rotate keys
  manage_rules,
  run_analytics,
  generate_reports,
  manage_users,  // list, invite, edit, deactivate users
  view_audit_log,
  manage_factory,  // factory settings: telemetry retention, storage usage (super admin only)
  own_account,     // /auth/me, change own password: any signed-in user
};

std::string_view action_name(Action action);
std::optional<Action> parse_action(std::string_view text);

// The policy table: the only place that decides.
bool allowed(Role role, const Permissions& permissions, Action action);

struct FactoryContext {
  core::FactoryId factory_id;
  std::int64_t user_id = 0;
  std::string email;
  Role role = Role::admin;
  Permissions permissions;
  std::string request_id;
  std::string ip{};  // the caller's address, for the audit trail
  // When the caller's credentials stop being valid (the access token's "exp"), in seconds since
  // the epoch; 0 when unknown. Long-lived connections (the live feed) close then.
  std::int64_t expires_at = 0;

  bool can(Action action) const { return allowed(role, permissions, action); }
  // Throws core::Forbidden naming the action.
  void require(Action action) const;
};

}  // namespace factoryops::auth
