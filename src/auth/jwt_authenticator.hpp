// The production Authenticator: verifies the Bearer access token against the key ring, then
// checks the caller's current row (role, permissions, active flag, token_version) so that a
// deactivation, a role or permission change, or a password change takes effect at once in
// the process that made it and within a second elsewhere (rows are kept in PrincipalCache).
// Thread-safe; the KeyRingSource and Database must outlive it.
#pragma once

#include "auth/authenticator.hpp"
#include "auth/jwt.hpp"
#include "auth/key_ring_source.hpp"
#include "auth/principal_cache.hpp"
#include "db/database.hpp"

namespace factoryops::auth {

class JwtAuthenticator : public Authenticator {
 public:
  JwtAuthenticator(KeyRingSource& keys, db::Database& db) : keys_(keys), db_(db) {}
  FactoryContext authenticate(const http::Request& request) const override;
  std::optional<FactoryContext> authenticate_from_memory(const http::Request& request) const override;

 private:
  AccessClaims verified_claims(const http::Request& request) const;
  static FactoryContext context_for(const AccessClaims& claims, core::FactoryId factory_id,
                                    const Principal& principal);

  KeyRingSource& keys_;
  db::Database& db_;
};

}  // namespace factoryops::auth
