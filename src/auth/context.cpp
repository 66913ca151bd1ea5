#include "auth/context.hpp"

#include <boost/json.hpp>

#include <array>
#include <utility>

#include "core/errors.hpp"

namespace factoryops::auth {
namespace {

constexpr std::array<std::pair<Action, std::string_view>, 10> kActionNames = {{
    {Action::view_dashboard, "view_dashboard"},
    {Action::view_machines, "view_machines"},
    {Action::manage_machines, "manage_machines"},
    {Action::manage_rules, "manage_rules"},
    {Action::run_analytics, "run_analytics"},
    {Action::generate_reports, "generate_reports"},
    {Action::manage_users, "manage_users"},
    {Action::view_audit_log, "view_audit_log"},
    {Action::manage_factory, "manage_factory"},
    {Action::own_account, "own_account"},
}};

}  // namespace

std::string_view role_name(Role role) {
  return role == Role::super_admin ? "super_admin" : "admin";
}

std::optional<Role> parse_role(std::string_view text) {
  if (text == "super_admin") return Role::super_admin;
  if (text == "admin") return Role::admin;
  return std::nullopt;
}

std::string permissions_json(const Permissions& p) {
  boost::json::object o;
  o["rules"] = p.rules;
  o["analytics"] = p.analytics;
  o["reports"] = p.reports;
  o["machines"] = p.machines;
  return boost::json::serialize(o);
}

Permissions parse_permissions(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) throw core::Invalid("permissions", "must be a JSON object of booleans");
  Permissions p;
  for (const auto& [key, value] : v.as_object()) {
    std::string field = "permissions." + std::string(key);
    if (!value.is_bool()) throw core::Invalid(field, "must be true or false");
    if (key == "rules")
      p.rules = value.as_bool();
    else if (key == "analytics")
      p.analytics = value.as_bool();
    else if (key == "reports")
      p.reports = value.as_bool();
    else if (key == "machines")
      p.machines = value.as_bool();
    else
      throw core::Invalid(field, "unknown permission (known: rules, analytics, reports, machines)");
  }
  return p;
}

std::string_view action_name(Action action) {
  for (const auto& [a, name] : kActionNames) {
    if (a == action) return name;
  }
  return "unknown";
}

std::optional<Action> parse_action(std::string_view text) {
  for (const auto& [a, name] : kActionNames) {
    if (name == text) return a;
  }
  return std::nullopt;
}

bool allowed(Role role, const Permissions& p, Action action) {
  if (role == Role::super_admin) return true;
  switch (action) {
    case Action::view_dashboard:
    case Action::view_machines:
    case Action::own_account: return true;
    case Action::manage_machines: return p.machines;
    case Action::manage_rules: return p.rules;
    case Action::run_analytics: return p.analytics;
    case Action::generate_reports: return p.reports;
    case Action::manage_users:
    case Action::view_audit_log:
    case Action::manage_factory: return false;
  }
  return false;
}

void FactoryContext::require(Action action) const {
  if (!can(action)) {
    throw core::Forbidden("your role does not allow " + std::string(action_name(action)));
  }
}

}  // namespace factoryops::auth
