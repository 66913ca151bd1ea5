// A short-lived cache of the user rows that authentication reads on every request (role,
// permissions, active flag, token version), keyed by factory and user id. Entries live for
// kPrincipalCacheTtl; a change made through this process invalidates its entry at once, and a
// change made elsewhere (another replica, the CLI) is seen within the TTL. Thread-safe; one
// instance per process (global()).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/context.hpp"
#include "core/ids.hpp"

namespace factoryops::auth {

inline constexpr std::chrono::milliseconds kPrincipalCacheTtl{1000};

struct Principal {
  std::string email;
  Role role = Role::admin;
  Permissions permissions{};
  bool is_active = false;
  std::int64_t token_version = 0;
};

class PrincipalCache {
 public:
  using Clock = std::chrono::steady_clock;

  static PrincipalCache& global();

  // Read before loading a row; store() drops the row when an invalidation happened since.
  std::uint64_t generation() const;

  std::optional<Principal> find(const core::FactoryId& factory, std::int64_t user_id,
                                Clock::time_point now) const;
  void store(const core::FactoryId& factory, std::int64_t user_id, Principal principal,
             std::uint64_t loaded_at_generation, Clock::time_point now);

  // Call after the transaction that changed the user has committed.
  void invalidate(const core::FactoryId& factory, std::int64_t user_id);
  void clear();

 private:
  struct Entry {
    Principal principal;
    Clock::time_point expires;
  };
  static std::string key(const core::FactoryId& factory, std::int64_t user_id);

  // Bounds memory under a flood of distinct valid tokens; clearing costs one reload each.
  static constexpr std::size_t kCapacity = 10000;

  mutable std::mutex mutex_;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace factoryops::auth
