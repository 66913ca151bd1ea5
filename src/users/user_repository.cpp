#include "users/user_repository.hpp"

#include <algorithm>
#include <cctype>

#include "core/errors.hpp"
#include "db/clock.hpp"

namespace factoryops::users {
namespace {

constexpr std::string_view kUserColumns =
    "id, factory_id, email, name, role, permissions, is_active, token_version, last_login_at, created_at";

User user_from_row(const db::Row& row) {
  User u;
  u.id = row.get_int(0);
  u.factory_id = core::FactoryId(row.get_string(1));
  u.email = row.get_string(2);
  u.name = row.get_string(3);
  u.role = auth::parse_role(row.get_string(4)).value_or(auth::Role::admin);
  u.permissions = auth::parse_permissions(row.get_string(5));
  u.is_active = row.get_bool(6);
  u.token_version = row.get_int(7);
  u.last_login_at_ms = row.get_optional_int(8);
  u.created_at_ms = row.get_int(9);
  return u;
}

Invitation invitation_from_row(const db::Row& row) {
  Invitation i;
  i.id = row.get_int(0);
  i.factory_id = core::FactoryId(row.get_string(1));
  i.email = row.get_string(2);
  i.role = auth::parse_role(row.get_string(3)).value_or(auth::Role::admin);
  i.permissions = auth::parse_permissions(row.get_string(4));
  i.expires_at_ms = row.get_int(5);
  i.accepted_at_ms = row.get_optional_int(6);
  return i;
}

}  // namespace

std::optional<User> UserRepository::find(db::Connection& conn, const core::FactoryId& factory_id,
                                         std::int64_t id) {
  auto row =
      conn.query_one("SELECT " + std::string(kUserColumns) + " FROM users WHERE factory_id = ? AND id = ?",
                     {factory_id.str(), id});
  if (!row) return std::nullopt;
  return user_from_row(*row);
}

std::optional<std::pair<User, std::optional<std::string>>> UserRepository::find_by_email(
    db::Connection& conn, const core::FactoryId& factory_id, const std::string& email) {
  auto row = conn.query_one(
      "SELECT " + std::string(kUserColumns) + ", password_hash FROM users WHERE factory_id = ? AND email = ?",
      {factory_id.str(), email});
  if (!row) return std::nullopt;
  return std::make_pair(user_from_row(*row), row->get_optional_string(10));
}

std::vector<User> UserRepository::list(db::Connection& conn, const core::FactoryId& factory_id) {
  std::vector<User> out;
  for (const auto& row : conn.query(
           "SELECT " + std::string(kUserColumns) + " FROM users WHERE factory_id = ? ORDER BY email, id",
           {factory_id.str()})) {
    out.push_back(user_from_row(row));
  }
  return out;
}

User UserRepository::insert(db::Connection& conn, const core::FactoryId& factory_id, const NewUser& user) {
  std::int64_t now = db::now_ms();
  db::ExecResult result;
  try {
    result = conn.execute(
        "INSERT INTO users (factory_id, email, name, password_hash, role, permissions, is_active, "
        "token_version, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?, ?)",
        {factory_id.str(), user.email, user.name, user.password_hash, auth::role_name(user.role),
         auth::permissions_json(user.permissions), now, now});
  } catch (const core::Conflict&) {
    throw core::Conflict("a user with this email already exists in factory '" + factory_id.str() + "'");
  }
  return *find(conn, factory_id, result.last_insert_id);
}

void UserRepository::update(db::Connection& conn, const User& user) {
  conn.execute(
      "UPDATE users SET name = ?, role = ?, permissions = ?, is_active = ?, token_version = ?, updated_at = "
      "? "
      "WHERE factory_id = ? AND id = ?",
      {user.name, auth::role_name(user.role), auth::permissions_json(user.permissions), user.is_active,
       user.token_version, db::now_ms(), user.factory_id.str(), user.id});
}

void UserRepository::set_password(db::Connection& conn, const core::FactoryId& factory_id, std::int64_t id,
                                  const std::string& password_hash) {
  conn.execute(
      "UPDATE users SET password_hash = ?, token_version = token_version + 1, updated_at = ? "
      "WHERE factory_id = ? AND id = ?",
      {password_hash, db::now_ms(), factory_id.str(), id});
}

void UserRepository::touch_login(db::Connection& conn, const core::FactoryId& factory_id, std::int64_t id) {
  conn.execute("UPDATE users SET last_login_at = ? WHERE factory_id = ? AND id = ?",
               {db::now_ms(), factory_id.str(), id});
}

std::int64_t UserRepository::active_super_admins(db::Connection& conn, const core::FactoryId& factory_id) {
  return conn
      .query_one("SELECT COUNT(*) FROM users WHERE factory_id = ? AND role = 'super_admin' AND is_active = 1",
                 {factory_id.str()})
      ->get_int(0);
}

void UserRepository::lock_factory(db::Connection& conn, const core::FactoryId& factory_id) {
  if (conn.dialect() == db::Dialect::mysql) {
    conn.query("SELECT id FROM factories WHERE id = ? FOR UPDATE", {factory_id.str()});
  }
}

Invitation UserRepository::insert_invitation(db::Connection& conn, const Invitation& invitation,
                                             const std::string& token_hash,
                                             std::optional<std::int64_t> invited_by) {
  auto result = conn.execute(
      "INSERT INTO invitations (factory_id, email, role, permissions, token_hash, invited_by, expires_at, "
      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {invitation.factory_id.str(), invitation.email, auth::role_name(invitation.role),
       auth::permissions_json(invitation.permissions), token_hash, invited_by, invitation.expires_at_ms,
       db::now_ms()});
  Invitation stored = invitation;
  stored.id = result.last_insert_id;
  return stored;
}

std::optional<Invitation> UserRepository::find_invitation(db::Connection& conn,
                                                          const std::string& token_hash) {
  auto row = conn.query_one(
      "SELECT id, factory_id, email, role, permissions, expires_at, accepted_at FROM invitations "
      "WHERE token_hash = ?",
      {token_hash});
  if (!row) return std::nullopt;
  return invitation_from_row(*row);
}

void UserRepository::mark_invitation_accepted(db::Connection& conn, const core::FactoryId& factory_id,
                                              std::int64_t id) {
  conn.execute("UPDATE invitations SET accepted_at = ? WHERE factory_id = ? AND id = ?",
               {db::now_ms(), factory_id.str(), id});
}

std::string normalize_email(std::string_view field, std::string_view text) {
  const std::string name(field);
  if (text.empty()) throw core::Invalid(name, "must not be empty");
  if (text.size() > 254) throw core::Invalid(name, "must be at most 254 characters");
  std::string email;
  for (unsigned char c : text) {
    if (c <= 0x20 || c >= 0x7F) throw core::Invalid(name, "must be a plain address without spaces");
    email.push_back(static_cast<char>(std::tolower(c)));
  }
  auto at = email.find('@');
  if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos) {
    throw core::Invalid(name, "must be an address like name@example.com");
  }
  std::string_view local = std::string_view(email).substr(0, at);
  std::string_view domain = std::string_view(email).substr(at + 1);
  if (local.size() > 64) throw core::Invalid(name, "the part before '@' must be at most 64 characters");
  if (domain.size() < 3 || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.' || domain.find("..") != std::string_view::npos) {
    throw core::Invalid(name, "must have a domain like example.com after '@'");
  }
  for (char c : email) {
    if (c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' || c == '<' || c == '>' ||
        c == '[' || c == ']' || c == '\\') {
      throw core::Invalid(name, "contains a character not allowed in an address");
    }
  }
  return email;
}

}  // namespace factoryops::users
