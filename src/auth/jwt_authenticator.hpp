// The production Authenticator: verifies the Bearer access token against the key ring, then
// loads the caller's current row (one primary-key query by factory and id) so that a
// deactivation, a role or permission change, or a password change (token_version) takes
// effect on the next request. No cache, so every replica agrees. Thread-safe; the
// KeyRingSource and Database must outlive it.
#pragma once

#include "auth/authenticator.hpp"
#include "auth/key_ring_source.hpp"
#include "db/database.hpp"

namespace factoryops::auth {

class JwtAuthenticator : public Authenticator {
 public:
  JwtAuthenticator(KeyRingSource& keys, db::Database& db) : keys_(keys), db_(db) {}
  FactoryContext authenticate(const http::Request& request) const override;

 private:
  KeyRingSource& keys_;
  db::Database& db_;
};

}  // namespace factoryops::auth
