// The roles one factoryops process can play (DESIGN §2): parsing and validation of --roles.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace factoryops::app {

struct RoleInfo {
  std::string_view name;
  bool available;  // implemented in this version
};

// Every role in the architecture, in a fixed order.
const std::vector<RoleInfo>& known_roles();

// Parses "all" or a comma-separated list ("api,telemetry"). Returns the roles in the order of
// known_roles(), without duplicates. Throws core::ConfigError naming --roles for an unknown
// role, an empty list, or a role this version does not provide.
std::vector<std::string> parse_roles(std::string_view text);

std::string join_roles(const std::vector<std::string>& roles);

}  // namespace factoryops::app
