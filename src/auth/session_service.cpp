#include "auth/session_service.hpp"

#include <boost/json.hpp>

#include "auth/crypto.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/principal_cache.hpp"
#include "core/logging.hpp"
#include "db/clock.hpp"
#include "db/factory_repository.hpp"

namespace factoryops::auth {
namespace json = boost::json;
namespace {

constexpr std::string_view kBadCredentials = "invalid factory, email or password";
constexpr std::string_view kBadRefresh = "the refresh token is invalid, expired or revoked";

std::string email_details(const std::string& email, std::string_view reason = {}) {
  json::object o;
  o["email"] = email;
  if (!reason.empty()) o["reason"] = reason;
  return json::serialize(o);
}

void revoke_family(db::Connection& conn, const std::string& factory_id, const std::string& family_id) {
  conn.execute(
      "UPDATE refresh_tokens SET revoked_at = ? WHERE factory_id = ? AND family_id = ? AND revoked_at IS "
      "NULL",
      {db::now_ms(), factory_id, family_id});
}

}  // namespace

SessionService::SessionService(db::Database& db, KeyRingSource& keys, users::UserService& users,
                               SessionOptions options)
    : db_(db), keys_(keys), users_(users), options_(options), throttle_(db, options.throttle) {}

Session SessionService::issue(db::Connection& conn, const users::User& user, const std::string& family_id) {
  std::int64_t now_ms = db::now_ms();
  AccessClaims claims;
  claims.user_id = user.id;
  claims.factory_id = user.factory_id.str();
  claims.role = user.role;
  claims.issued_at = now_ms / 1000;
  claims.expires_at = claims.issued_at + options_.access_token_ttl_seconds;
  claims.jti = random_hex(16);
  claims.token_version = user.token_version;
  Session s;
  s.access_token = sign_access_token(*keys_.current(), claims);
  s.expires_in = options_.access_token_ttl_seconds;
  s.refresh_token = random_token(32);
  s.user = user;
  conn.execute(
      "INSERT INTO refresh_tokens (factory_id, user_id, family_id, token_hash, expires_at, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      {user.factory_id.str(), user.id, family_id, sha256_hex(s.refresh_token),
       now_ms + options_.refresh_token_ttl_seconds * 1000, now_ms});
  return s;
}

Session SessionService::login(std::string_view factory_text, std::string_view email_text,
                              std::string_view password, const audit::RequestMeta& meta) {
  if (factory_text.empty()) throw core::Invalid("factory_id", "must not be empty");
  if (email_text.empty()) throw core::Invalid("email", "must not be empty");
  if (password.empty()) throw core::Invalid("password", "must not be empty");
  if (email_text.size() > 320) throw core::Invalid("email", "must be at most 320 characters");
  if (password.size() > 1024) throw core::Invalid("password", "must be at most 1024 bytes");
  core::FactoryId factory_id(factory_text);  // core::Invalid("factory_id", …) for a non-slug
  std::string email;
  for (char c : email_text) email.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const std::string address = meta.ip.value_or("");

  if (auto wait = throttle_.blocked_for(factory_id.str(), email, address)) {
    log::warn("sign-in throttled", {{"factory_id", factory_id.str()}, {"retry_after", *wait}});
    throw TooManyAttempts(*wait);
  }

  std::optional<std::pair<users::User, std::optional<std::string>>> found;
  {
    auto conn = db_.acquire();
    found = users::UserRepository::find_by_email(*conn, factory_id, email);
  }
  // Exactly one bcrypt verification on every path, so the answer time does not tell an
  // unknown factory or email from a wrong password.
  bool password_ok = false;
  if (found && found->second) {
    password_ok = verify_password(password, *found->second);
  } else {
    burn_password_check(password);
  }
  bool ok = found && found->first.is_active && password_ok;
  if (!ok) {
    throttle_.record_failure(factory_id.str(), email, address);
    std::string_view reason = !found ? "unknown_user" : !password_ok ? "wrong_password" : "inactive_user";
    if (db::FactoryRepository(db_).find(factory_id)) {
      audit::RequestMeta m = meta;
      if (found) m.user_id = found->first.id;
      auto conn = db_.acquire();
      audit::record(*conn, factory_id, m, "auth.login_failed", "user",
                    found ? std::optional<std::string>(std::to_string(found->first.id)) : std::nullopt,
                    email_details(email, reason));
    }
    throw core::Unauthorized(std::string(kBadCredentials));
  }

  throttle_.clear(factory_id.str(), email);
  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  users::UserRepository::touch_login(*conn, factory_id, found->first.id);
  Session session = issue(*conn, found->first, random_hex(16));
  session.user.last_login_at_ms = db::now_ms();
  audit::RequestMeta m = meta;
  m.user_id = found->first.id;
  audit::record(*conn, factory_id, m, "auth.login", "user", std::to_string(found->first.id),
                email_details(email));
  tx.commit();
  return session;
}

Session SessionService::refresh(std::string_view token, const audit::RequestMeta& meta) {
  if (token.empty() || token.size() > 128) throw core::Unauthorized(std::string(kBadRefresh));
  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  auto row = conn->query_one(
      "SELECT id, factory_id, user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens "
      "WHERE token_hash = ?",
      {sha256_hex(token)});
  if (!row) throw core::Unauthorized(std::string(kBadRefresh));
  const std::int64_t id = row->get_int(0);
  const core::FactoryId factory_id(row->get_string(1));
  const std::int64_t user_id = row->get_int(2);
  const std::string family = row->get_string(3);
  const std::int64_t now = db::now_ms();
  if (!row->is_null(6)) throw core::Unauthorized(std::string(kBadRefresh));
  auto reuse = [&] {
    // A spent token presented again means it was copied: end every session descended from
    // the same login, the thief's and the owner's alike.
    revoke_family(*conn, factory_id.str(), family);
    audit::RequestMeta m = meta;
    m.user_id = user_id;
    json::object details;
    details["family_id"] = family;
    audit::record(*conn, factory_id, m, "auth.refresh_reuse", "user", std::to_string(user_id),
                  json::serialize(details));
    tx.commit();
    log::warn("refresh token reused; session family revoked",
              {{"factory_id", factory_id.str()}, {"user_id", user_id}});
    throw core::Unauthorized(std::string(kBadRefresh));
  };
  if (!row->is_null(5)) reuse();
  if (row->get_int(4) <= now) throw core::Unauthorized(std::string(kBadRefresh));
  auto user = users::UserRepository::find(*conn, factory_id, user_id);
  if (!user || !user->is_active) {
    revoke_family(*conn, factory_id.str(), family);
    tx.commit();
    throw core::Unauthorized(std::string(kBadRefresh));
  }
  // The condition on used_at makes the spend atomic even where two replicas race.
  auto spent =
      conn->execute("UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL", {now, id});
  if (spent.affected_rows != 1) reuse();
  Session session = issue(*conn, *user, family);
  tx.commit();
  return session;
}

void SessionService::logout(std::string_view token, const audit::RequestMeta& meta) {
  if (token.empty() || token.size() > 128) return;
  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  auto row = conn->query_one("SELECT factory_id, user_id, family_id FROM refresh_tokens WHERE token_hash = ?",
                             {sha256_hex(token)});
  if (!row) return;
  core::FactoryId factory_id(row->get_string(0));
  revoke_family(*conn, factory_id.str(), row->get_string(2));
  audit::RequestMeta m = meta;
  m.user_id = row->get_int(1);
  audit::record(*conn, factory_id, m, "auth.logout", "user", std::to_string(row->get_int(1)));
  tx.commit();
}

void SessionService::change_password(const FactoryContext& context, std::string_view current_password,
                                     std::string_view new_password, const audit::RequestMeta& meta) {
  context.require(Action::own_account);
  if (current_password.empty()) throw core::Invalid("current_password", "must not be empty");
  if (new_password.empty()) throw core::Invalid("new_password", "must not be empty");
  std::optional<std::string> hash;
  {
    auto conn = db_.acquire();
    auto found = users::UserRepository::find_by_email(*conn, context.factory_id, context.email);
    if (found && found->first.id == context.user_id) hash = found->second;
  }
  if (!hash || !verify_password(current_password, *hash)) {
    throw core::Unauthorized("the current password is wrong");
  }
  if (auto why = password_problem(new_password, context.email, context.factory_id.str())) {
    throw core::Invalid("new_password", *why);
  }
  if (new_password == current_password)
    throw core::Invalid("new_password", "must differ from the current password");
  std::string new_hash = hash_password(new_password);
  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  users::UserRepository::set_password(*conn, context.factory_id, context.user_id, new_hash);
  conn->execute(
      "UPDATE refresh_tokens SET revoked_at = ? WHERE factory_id = ? AND user_id = ? AND revoked_at IS NULL",
      {db::now_ms(), context.factory_id.str(), context.user_id});
  audit::RequestMeta m = meta;
  m.user_id = context.user_id;
  audit::record(*conn, context.factory_id, m, "auth.password_changed", "user",
                std::to_string(context.user_id));
  tx.commit();
  PrincipalCache::global().invalidate(context.factory_id, context.user_id);
}

Session SessionService::accept_invitation(std::string_view token, std::string_view name,
                                          std::string_view password, const audit::RequestMeta& meta) {
  users::User user = users_.accept_invitation(token, name, password, meta);
  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  users::UserRepository::touch_login(*conn, user.factory_id, user.id);
  Session session = issue(*conn, user, random_hex(16));
  session.user.last_login_at_ms = db::now_ms();
  tx.commit();
  return session;
}

std::optional<users::User> SessionService::me(const FactoryContext& context) {
  auto conn = db_.acquire();
  return users::UserRepository::find(*conn, context.factory_id, context.user_id);
}

}  // namespace factoryops::auth
