// Users and invitations of one factory in the metadata store. Every function takes the
// FactoryId first and filters by it. Static functions work on the caller's connection, so
// services compose them inside one transaction. Stateless, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/context.hpp"
#include "core/ids.hpp"
#include "db/database.hpp"

namespace factoryops::users {

struct User {
  std::int64_t id = 0;
  core::FactoryId factory_id{"unset"};
  std::string email;
  std::string name;
  auth::Role role = auth::Role::admin;
  auth::Permissions permissions;
  bool is_active = true;
  std::int64_t token_version = 0;
  std::optional<std::int64_t> last_login_at_ms;
  std::int64_t created_at_ms = 0;
};

struct NewUser {
  std::string email;  // normalised
  std::string name;
  auth::Role role = auth::Role::admin;
  auth::Permissions permissions;
  std::string password_hash;
};

struct Invitation {
  std::int64_t id = 0;
  core::FactoryId factory_id{"unset"};
  std::string email;
  auth::Role role = auth::Role::admin;
  auth::Permissions permissions;
  std::int64_t expires_at_ms = 0;
  std::optional<std::int64_t> accepted_at_ms;
};

struct UserRepository {
  static std::optional<User> find(db::Connection& conn, const core::FactoryId& factory_id, std::int64_t id);
  // The user and their password hash (null for an account without a password).
  static std::optional<std::pair<User, std::optional<std::string>>> find_by_email(
      db::Connection& conn, const core::FactoryId& factory_id, const std::string& email);
  static std::vector<User> list(db::Connection& conn, const core::FactoryId& factory_id);
  // core::Conflict naming the email when it is taken in this factory.
  static User insert(db::Connection& conn, const core::FactoryId& factory_id, const NewUser& user);
  // Writes role, permissions, is_active, name and token_version of `user`.
  static void update(db::Connection& conn, const User& user);
  static void set_password(db::Connection& conn, const core::FactoryId& factory_id, std::int64_t id,
                           const std::string& password_hash);
  static void touch_login(db::Connection& conn, const core::FactoryId& factory_id, std::int64_t id);
  static std::int64_t active_super_admins(db::Connection& conn, const core::FactoryId& factory_id);
  // Serialises changes to one factory's users until the transaction ends (MySQL: a row
  // lock on the factory; SQLite transactions already hold the database write lock).
  static void lock_factory(db::Connection& conn, const core::FactoryId& factory_id);

  static Invitation insert_invitation(db::Connection& conn, const Invitation& invitation,
                                      const std::string& token_hash, std::optional<std::int64_t> invited_by);
  static std::optional<Invitation> find_invitation(db::Connection& conn, const std::string& token_hash);
  static void mark_invitation_accepted(db::Connection& conn, const core::FactoryId& factory_id,
                                       std::int64_t id);
};

// Lower-cases and checks an email address; core::Invalid(field, why) when it is not one.
std::string normalize_email(std::string_view field, std::string_view text);

}  // namespace factoryops::users
