// Access tokens: HS256 JWTs signed with a key ring (kid -> secret). The newest key signs;
// every key in the ring verifies. Only HS256 is accepted: the header is decoded and checked
// (alg, kid) before any signature work. KeyRing is an immutable value; functions are
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/context.hpp"

namespace factoryops::auth {

struct SigningKey {
  std::string kid;
  std::string secret;
};

class KeyRing {
 public:
  // Throws std::invalid_argument for an empty ring, a duplicate or malformed kid, or an
  // empty secret.
  explicit KeyRing(std::vector<SigningKey> keys);
  // The last key: the one that signs new tokens.
  const SigningKey& signing() const { return keys_.back(); }
  const SigningKey* find(std::string_view kid) const;
  const std::vector<SigningKey>& keys() const { return keys_; }

 private:
  std::vector<SigningKey> keys_;
};

// kids are 1-64 characters of [A-Za-z0-9._-].
bool is_valid_kid(std::string_view kid);

// Parses a key file: one "kid secret" per line; blank lines and lines starting with '#' are
// skipped. Throws std::invalid_argument naming the line number (never the secret).
std::vector<SigningKey> parse_key_file(std::string_view text);

struct AccessClaims {
  std::int64_t user_id = 0;  // "sub", as a decimal string
  std::string factory_id;    // "factory_id" and "factory_slug"
  Role role = Role::admin;
  std::int64_t issued_at = 0;   // "iat", seconds since the epoch
  std::int64_t expires_at = 0;  // "exp"
  std::string jti;
  std::int64_t token_version = 0;  // "tv"
};

// Tokens issued up to this far in the future (clock differences between replicas) still pass.
inline constexpr std::int64_t kClockSkewSeconds = 30;

std::string sign_access_token(const KeyRing& ring, const AccessClaims& claims);

struct VerifiedToken {
  std::optional<AccessClaims> claims;  // set when valid
  std::string problem;                 // why not, for the debug log (never echoes the token)
};

VerifiedToken verify_access_token(const KeyRing& ring, std::string_view token, std::int64_t now_seconds);

}  // namespace factoryops::auth
