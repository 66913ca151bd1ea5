#include "core/ids.hpp"

#include "core/errors.hpp"

namespace factoryops::core {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

std::optional<std::string> slug_problem(std::string_view text) {
  if (text.empty()) return "must not be empty";
  if (text.size() > kMaxSlugLength) {
    return "must be at most " + std::to_string(kMaxSlugLength) + " characters";
  }
  if (!is_lower_alnum(text.front())) return "must start with a lowercase letter or a digit";
  for (char c : text) {
    if (!is_lower_alnum(c) && c != '_' && c != '-') {
      return "may only contain lowercase letters, digits, '_' and '-'";
    }
  }
  return std::nullopt;
}

void validate_slug(std::string_view field, std::string_view text) {
  if (auto why = slug_problem(text)) throw Invalid(std::string(field), *why);
}

FactoryId::FactoryId(std::string_view text) : value_(text) {
  validate_slug("factory_id", text);
}

DeviceId::DeviceId(std::string_view text) : value_(text) {
  validate_slug("device_id", text);
}

}  // namespace factoryops::core
