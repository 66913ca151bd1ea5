#include "core/resources.hpp"

#include <algorithm>

namespace factoryops::core {

std::optional<std::string_view> find_resource(std::string_view name) {
  for (const auto& r : embedded_resources()) {
    if (r.name == name) return r.content;
  }
  return std::nullopt;
}

std::vector<Resource> resources_under(std::string_view prefix) {
  std::vector<Resource> out;
  for (const auto& r : embedded_resources()) {
    if (r.name.starts_with(prefix)) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const Resource& a, const Resource& b) { return a.name < b.name; });
  return out;
}

}  // namespace factoryops::core
