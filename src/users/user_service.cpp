#include "users/user_service.hpp"

#include <boost/json.hpp>

#include "auth/crypto.hpp"
#include "auth/password.hpp"
#include "auth/principal_cache.hpp"
#include "core/errors.hpp"
#include "db/clock.hpp"
#include "db/factory_repository.hpp"

namespace factoryops::users {
namespace json = boost::json;
namespace {

void check_password(std::string_view field, std::string_view password, const std::string& email,
                    const core::FactoryId& factory_id) {
  if (auto why = auth::password_problem(password, email, factory_id.str()))
    throw core::Invalid(std::string(field), *why);
}

std::string changes_json(const User& before, const User& after) {
  json::object changes;
  if (before.role != after.role) changes["role"] = auth::role_name(after.role);
  if (before.permissions != after.permissions)
    changes["permissions"] = json::parse(auth::permissions_json(after.permissions));
  if (before.is_active != after.is_active) changes["is_active"] = after.is_active;
  if (before.name != after.name) changes["name"] = after.name;
  json::object details;
  details["email"] = after.email;
  details["changes"] = std::move(changes);
  return json::serialize(details);
}

}  // namespace

std::string normalize_name(std::string_view field, std::string_view text, bool allow_empty) {
  std::size_t b = text.find_first_not_of(" \t\r\n");
  std::size_t e = text.find_last_not_of(" \t\r\n");
  std::string name = b == std::string_view::npos ? std::string() : std::string(text.substr(b, e - b + 1));
  if (name.empty() && !allow_empty) throw core::Invalid(std::string(field), "must not be empty");
  std::size_t chars = 0;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7F) throw core::Invalid(std::string(field), "must not contain control characters");
    chars += (c & 0xC0) != 0x80 ? 1 : 0;
  }
  if (chars > 255) throw core::Invalid(std::string(field), "must be at most 255 characters");
  return name;
}

std::vector<User> UserService::list(const auth::FactoryContext& context) {
  context.require(auth::Action::manage_users);
  auto conn = db_.acquire();
  return UserRepository::list(*conn, context.factory_id);
}

IssuedInvitation UserService::invite(const auth::FactoryContext& context, std::string_view email_text,
                                     auth::Role role, const auth::Permissions& permissions,
                                     const audit::RequestMeta& meta) {
  context.require(auth::Action::manage_users);
  std::string email = normalize_email("email", email_text);
  IssuedInvitation issued;
  issued.token = auth::random_token(32);
  issued.invitation.factory_id = context.factory_id;
  issued.invitation.email = email;
  issued.invitation.role = role;
  issued.invitation.permissions = permissions;
  issued.invitation.expires_at_ms = db::now_ms() + kInvitationLifetimeMs;

  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  if (UserRepository::find_by_email(*conn, context.factory_id, email)) {
    throw core::Conflict("a user with this email already exists in this factory");
  }
  // A new invitation replaces any still-open one for the same address.
  conn->execute("DELETE FROM invitations WHERE factory_id = ? AND email = ? AND accepted_at IS NULL",
                {context.factory_id.str(), email});
  issued.invitation = UserRepository::insert_invitation(*conn, issued.invitation,
                                                        auth::sha256_hex(issued.token), context.user_id);
  json::object details;
  details["email"] = email;
  details["role"] = auth::role_name(role);
  details["permissions"] = json::parse(auth::permissions_json(permissions));
  audit::record(*conn, context.factory_id, meta, "user.invited", "invitation",
                std::to_string(issued.invitation.id), json::serialize(details));
  tx.commit();
  return issued;
}

User UserService::update(const auth::FactoryContext& context, std::int64_t id, const UserPatch& patch,
                         const audit::RequestMeta& meta) {
  context.require(auth::Action::manage_users);
  std::optional<std::string> name;
  if (patch.name) name = normalize_name("name", *patch.name, true);
  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  UserRepository::lock_factory(*conn, context.factory_id);
  auto before = UserRepository::find(*conn, context.factory_id, id);
  if (!before) throw core::NotFound("user not found");
  User after = *before;
  if (patch.role) after.role = *patch.role;
  if (patch.permissions) after.permissions = *patch.permissions;
  if (patch.is_active) after.is_active = *patch.is_active;
  if (name) after.name = *name;
  bool was_counted = before->role == auth::Role::super_admin && before->is_active;
  bool is_counted = after.role == auth::Role::super_admin && after.is_active;
  if (was_counted && !is_counted && UserRepository::active_super_admins(*conn, context.factory_id) <= 1) {
    throw core::Conflict("this is the factory's last active super_admin; promote another user first");
  }
  // Deactivation ends every session of the user; role and permission changes need no bump
  // because each request re-reads them.
  if (before->is_active && !after.is_active) {
    after.token_version += 1;
    conn->execute(
        "UPDATE refresh_tokens SET revoked_at = ? WHERE factory_id = ? AND user_id = ? AND revoked_at IS "
        "NULL",
        {db::now_ms(), context.factory_id.str(), id});
  }
  UserRepository::update(*conn, after);
  bool deactivated = before->is_active && !after.is_active;
  audit::record(*conn, context.factory_id, meta, deactivated ? "user.deactivated" : "user.updated", "user",
                std::to_string(id), changes_json(*before, after));
  tx.commit();
  auth::PrincipalCache::global().invalidate(context.factory_id, id);
  return after;
}

void UserService::deactivate(const auth::FactoryContext& context, std::int64_t id,
                             const audit::RequestMeta& meta) {
  UserPatch patch;
  patch.is_active = false;
  update(context, id, patch, meta);
}

User UserService::accept_invitation(std::string_view token, std::string_view name_text,
                                    std::string_view password, const audit::RequestMeta& meta_in) {
  if (token.empty() || token.size() > 128) throw core::Invalid("token", "is not a valid invitation token");
  std::string name = normalize_name("name", name_text, false);
  const std::string token_hash = auth::sha256_hex(token);
  auto conn = db_.acquire();
  auto usable = [&] {
    auto found = UserRepository::find_invitation(*conn, token_hash);
    if (!found || found->accepted_at_ms || found->expires_at_ms <= db::now_ms()) {
      throw core::Invalid("token", "the invitation is unknown, expired or already used");
    }
    return *found;
  };
  // Hash before the transaction (bcrypt takes a quarter second), then check again inside it
  // so two acceptances of one invitation cannot both succeed.
  Invitation first = usable();
  check_password("password", password, first.email, first.factory_id);
  std::string hash = auth::hash_password(password);
  db::Transaction tx(*conn);
  auto invitation = std::optional<Invitation>(usable());
  NewUser user{invitation->email, name, invitation->role, invitation->permissions, hash};
  User created = UserRepository::insert(*conn, invitation->factory_id, user);
  UserRepository::mark_invitation_accepted(*conn, invitation->factory_id, invitation->id);
  audit::RequestMeta meta = meta_in;
  meta.user_id = created.id;
  json::object details;
  details["email"] = created.email;
  details["invitation_id"] = invitation->id;
  audit::record(*conn, invitation->factory_id, meta, "user.invite_accepted", "user",
                std::to_string(created.id), json::serialize(details));
  tx.commit();
  return created;
}

User UserService::create(const core::FactoryId& factory_id, std::string_view email_text,
                         std::string_view name_text, auth::Role role, std::string_view password) {
  std::string email = normalize_email("email", email_text);
  std::string name = normalize_name("name", name_text, true);
  check_password("password", password, email, factory_id);
  if (!db::FactoryRepository(db_).find(factory_id)) {
    throw core::NotFound("factory '" + factory_id.str() + "' does not exist");
  }
  std::string hash = auth::hash_password(password);
  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  User created = UserRepository::insert(*conn, factory_id, NewUser{email, name, role, {}, hash});
  json::object details;
  details["email"] = email;
  details["role"] = auth::role_name(role);
  details["source"] = "cli";
  audit::record(*conn, factory_id, {}, "user.created", "user", std::to_string(created.id),
                json::serialize(details));
  tx.commit();
  return created;
}

}  // namespace factoryops::users
