// Text resources compiled into the binary (SQL migrations, the OpenAPI document), keyed by
// their path under src/, e.g. "db/migrations/sqlite/0001_initial.sql". Immutable, thread-safe.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace factoryops::core {

struct Resource {
  std::string_view name;
  std::string_view content;
};

const std::vector<Resource>& embedded_resources();

std::optional<std::string_view> find_resource(std::string_view name);

// Resources whose name starts with `prefix`, sorted by name.
std::vector<Resource> resources_under(std::string_view prefix);

}  // namespace factoryops::core
