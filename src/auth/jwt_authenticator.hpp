// The production Authenticator: verifies the Bearer access token against the key ring (claims
// are reused for a few seconds, see VerifiedTokenCache), then checks the caller's current row
// (role, permissions, active flag, token_version) on every request, so that a deactivation, a
// role or permission change, or a password change takes effect at once in the process that made
// it and within a second elsewhere (rows are kept in PrincipalCache).
// Thread-safe; the KeyRingSource and Database must outlive it.
#pragma once

#include "auth/authenticator.hpp"
#include "auth/jwt.hpp"
#include "auth/key_ring_source.hpp"
#include "auth/principal_cache.hpp"
#include "auth/verified_token_cache.hpp"
#include "db/database.hpp"

namespace factoryops::auth {

class JwtAuthenticator : public Authenticator {
 public:
  JwtAuthenticator(KeyRingSource& keys, db::Database& db) : keys_(keys), db_(db) {}
  FactoryContext authenticate(const http::Request& request) const override;
  std::optional<FactoryContext> authenticate_from_memory(const http::Request& request) const override;

 private:
  // The claims of the request's bearer token, verified now or recently against the current ring.
  VerifiedTokenCache::Claims verified_claims(const http::Request& request) const;
  static FactoryContext context_for(const AccessClaims& claims, core::FactoryId factory_id,
                                    const Principal& principal);

  KeyRingSource& keys_;
  db::Database& db_;
  mutable VerifiedTokenCache verified_;
};

}  // namespace factoryops::auth
