// Identifier rules shared by every layer: factory and device ids are slugs
// [a-z0-9][a-z0-9_-]{0,63}, chosen at creation and immutable. FactoryId and DeviceId are
// validated value types, so a function taking one cannot receive an unchecked string.
// Immutable after construction; thread-safe.
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace factoryops::core {

constexpr std::size_t kMaxSlugLength = 64;

// nullopt when `text` is a valid slug, otherwise why it is not (without echoing it).
std::optional<std::string> slug_problem(std::string_view text);
inline bool is_valid_slug(std::string_view text) {
  return !slug_problem(text).has_value();
}

// Throws core::Invalid(field, why) unless `text` is a valid slug.
void validate_slug(std::string_view field, std::string_view text);

class FactoryId {
 public:
  // Throws core::Invalid("factory_id", why).
  explicit FactoryId(std::string_view text);
  const std::string& str() const { return value_; }
  friend auto operator<=>(const FactoryId&, const FactoryId&) = default;

 private:
  std::string value_;
};

class DeviceId {
 public:
  // Throws core::Invalid("device_id", why).
  explicit DeviceId(std::string_view text);
  const std::string& str() const { return value_; }
  friend auto operator<=>(const DeviceId&, const DeviceId&) = default;

 private:
  std::string value_;
};

}  // namespace factoryops::core

template <>
struct std::hash<factoryops::core::FactoryId> {
  std::size_t operator()(const factoryops::core::FactoryId& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};

template <>
struct std::hash<factoryops::core::DeviceId> {
  std::size_t operator()(const factoryops::core::DeviceId& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
