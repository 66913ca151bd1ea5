#include "app/roles.hpp"

#include <algorithm>

#include "core/config.hpp"

namespace factoryops::app {

const std::vector<RoleInfo>& known_roles() {
  static const std::vector<RoleInfo> kRoles = {
      {"api", true},        {"telemetry", true},  {"rule-engine", true}, {"notifications", true},
      {"analytics", false}, {"reporting", false}, {"scheduler", true},
  };
  return kRoles;
}

std::vector<std::string> parse_roles(std::string_view text) {
  std::vector<std::string> requested;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view part =
        text.substr(start, comma == std::string_view::npos ? text.size() - start : comma - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) requested.emplace_back(part);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (requested.empty()) throw core::ConfigError("--roles", "must name at least one role, or 'all'");

  std::vector<std::string> out;
  for (const auto& role : known_roles()) {
    bool wanted = std::find(requested.begin(), requested.end(), "all") != requested.end()
                      ? role.available
                      : std::find(requested.begin(), requested.end(), role.name) != requested.end();
    if (wanted) {
      if (!role.available) {
        throw core::ConfigError(
            "--roles", "role '" + std::string(role.name) + "' is not provided by this version of factoryops");
      }
      out.emplace_back(role.name);
    }
  }
  for (const auto& r : requested) {
    bool known = r == "all" || std::any_of(known_roles().begin(), known_roles().end(),
                                           [&](const RoleInfo& info) { return info.name == r; });
    if (!known) {
      std::string list = "all";
      for (const auto& info : known_roles()) list += ", " + std::string(info.name);
      throw core::ConfigError("--roles", "unknown role '" + r + "' (known: " + list + ")");
    }
  }
  return out;
}

std::string join_roles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out;
}

}  // namespace factoryops::app
