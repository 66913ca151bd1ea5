// Sign-in sessions: login (with brute-force throttling and constant-work failure paths),
// access tokens, refresh-token families (rotated on every use, the whole family revoked when
// a spent token comes back), logout, password change and sign-in after accepting an
// invitation. Thread-safe; the Database, KeyRingSource and UserService must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "audit/audit_service.hpp"
#include "auth/key_ring_source.hpp"
#include "auth/login_throttle.hpp"
#include "core/errors.hpp"
#include "users/user_service.hpp"

namespace factoryops::auth {

struct SessionOptions {
  std::int64_t access_token_ttl_seconds = 15 * 60;
  std::int64_t refresh_token_ttl_seconds = 14 * 24 * 3600;
  ThrottleLimits throttle{};
};

struct Session {
  std::string access_token;
  std::int64_t expires_in = 0;  // seconds
  std::string refresh_token;
  users::User user;
};

// Too many failed sign-ins: answer 429 with Retry-After.
class TooManyAttempts : public core::Error {
 public:
  explicit TooManyAttempts(std::int64_t retry_after_seconds)
      : core::Error(core::ErrorKind::rate_limited, "too many failed sign-in attempts; try again later"),
        retry_after_seconds_(retry_after_seconds) {}
  std::int64_t retry_after_seconds() const { return retry_after_seconds_; }

 private:
  std::int64_t retry_after_seconds_;
};

class SessionService {
 public:
  SessionService(db::Database& db, KeyRingSource& keys, users::UserService& users, SessionOptions options);

  // core::Unauthorized (one message for every reason), TooManyAttempts, core::Invalid for a
  // malformed factory_id/email/password field.
  Session login(std::string_view factory_id, std::string_view email, std::string_view password,
                const audit::RequestMeta& meta);
  Session refresh(std::string_view refresh_token, const audit::RequestMeta& meta);
  // Revokes the token's family; unknown tokens are ignored.
  void logout(std::string_view refresh_token, const audit::RequestMeta& meta);
  // Bumps token_version (every access token stops working) and revokes every refresh family.
  void change_password(const FactoryContext& context, std::string_view current_password,
                       std::string_view new_password, const audit::RequestMeta& meta);
  Session accept_invitation(std::string_view token, std::string_view name, std::string_view password,
                            const audit::RequestMeta& meta);

  std::optional<users::User> me(const FactoryContext& context);

 private:
  Session issue(db::Connection& conn, const users::User& user, const std::string& family_id);

  db::Database& db_;
  KeyRingSource& keys_;
  users::UserService& users_;
  SessionOptions options_;
  LoginThrottle throttle_;
};

}  // namespace factoryops::auth
