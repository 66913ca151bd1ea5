// Managing the people of a factory: listing, inviting, editing, deactivating, accepting
// invitations, and the CLI's first-user creation. Business rules live here: emails are
// normalised, passwords follow the policy, a factory always keeps an active super_admin, and
// every change is audited in the same transaction. Thread-safe; the Database must outlive it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit/audit_service.hpp"
#include "users/user_repository.hpp"

namespace factoryops::users {

inline constexpr std::int64_t kInvitationLifetimeMs = 72LL * 3600 * 1000;

struct IssuedInvitation {
  Invitation invitation;
  std::string token;  // shown once; only its SHA-256 is stored
};

struct UserPatch {
  std::optional<auth::Role> role;
  std::optional<auth::Permissions> permissions;
  std::optional<bool> is_active;
  std::optional<std::string> name;
};

class UserService {
 public:
  explicit UserService(db::Database& db) : db_(db) {}

  std::vector<User> list(const auth::FactoryContext& context);
  IssuedInvitation invite(const auth::FactoryContext& context, std::string_view email, auth::Role role,
                          const auth::Permissions& permissions, const audit::RequestMeta& meta);
  // core::NotFound for an id of another factory; core::Conflict when the change would leave
  // the factory without an active super_admin.
  User update(const auth::FactoryContext& context, std::int64_t id, const UserPatch& patch,
              const audit::RequestMeta& meta);
  void deactivate(const auth::FactoryContext& context, std::int64_t id, const audit::RequestMeta& meta);

  // Creates the invited user. core::Invalid naming "token", "name" or "password".
  User accept_invitation(std::string_view token, std::string_view name, std::string_view password,
                         const audit::RequestMeta& meta);

  // For `factoryops admin create-user`: no caller context. core::NotFound for an unknown
  // factory, core::Conflict for a taken email, core::Invalid naming the field.
  User create(const core::FactoryId& factory_id, std::string_view email, std::string_view name,
              auth::Role role, std::string_view password);

 private:
  db::Database& db_;
};

// Trims and checks a display name (at most 255 characters; may be empty when `allow_empty`).
std::string normalize_name(std::string_view field, std::string_view text, bool allow_empty);

}  // namespace factoryops::users
