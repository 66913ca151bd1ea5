#include "auth/jwt_authenticator.hpp"

#include <chrono>

#include "auth/principal_cache.hpp"
#include "core/errors.hpp"
#include "core/logging.hpp"
#include "http/types.hpp"

namespace factoryops::auth {
namespace {

constexpr std::string_view kNoCredentials = "sign in first: missing or invalid access token";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

VerifiedTokenCache::Claims JwtAuthenticator::verified_claims(const http::Request& request) const {
  auto header = request.headers.get("Authorization");
  if (!header || header->size() < 8 || !http::iequals(header->substr(0, 7), "Bearer ")) {
    throw core::Unauthorized(std::string(kNoCredentials));
  }
  std::string_view token = header->substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  const auto ring = keys_.current();
  const std::int64_t now = now_seconds();
  const auto steady_now = VerifiedTokenCache::Clock::now();
  if (auto claims = verified_.find(token, ring, now, steady_now)) return claims;
  auto verified = verify_access_token(*ring, token, now);
  if (!verified.claims) {
    log::debug("access token rejected", {{"reason", verified.problem}});
    throw core::Unauthorized(std::string(kNoCredentials));
  }
  auto claims = std::make_shared<const AccessClaims>(std::move(*verified.claims));
  verified_.store(token, ring, claims, steady_now);
  return claims;
}

FactoryContext JwtAuthenticator::context_for(const AccessClaims& claims, core::FactoryId factory_id,
                                             const Principal& principal) {
  if (!principal.is_active || principal.token_version != claims.token_version) {
    log::debug("access token rejected", {{"reason", "user inactive or token version changed"}});
    throw core::Unauthorized(std::string(kNoCredentials));
  }
  FactoryContext context{std::move(factory_id), claims.user_id,        principal.email,
                         principal.role,        principal.permissions, {}};
  context.expires_at = claims.expires_at;
  return context;
}

std::optional<FactoryContext> JwtAuthenticator::authenticate_from_memory(const http::Request& request) const {
  const auto claims = verified_claims(request);
  core::FactoryId factory_id(claims->factory_id);
  auto principal = PrincipalCache::global().find(factory_id, claims->user_id, PrincipalCache::Clock::now());
  if (!principal) return std::nullopt;
  return context_for(*claims, std::move(factory_id), *principal);
}

FactoryContext JwtAuthenticator::authenticate(const http::Request& request) const {
  const auto verified = verified_claims(request);
  const AccessClaims& claims = *verified;
  core::FactoryId factory_id(claims.factory_id);
  auto& cache = PrincipalCache::global();
  const auto now = PrincipalCache::Clock::now();
  auto principal = cache.find(factory_id, claims.user_id, now);
  if (!principal) {
    const std::uint64_t generation = cache.generation();
    auto conn = db_.acquire();
    auto row = conn->query_one(
        "SELECT email, role, permissions, is_active, token_version FROM users WHERE factory_id = ? AND id = "
        "?",
        {claims.factory_id, claims.user_id});
    auto role = row ? parse_role(row->get_string(1)) : std::nullopt;
    if (!row || !role) {
      log::debug("access token rejected", {{"reason", "user unknown"}});
      throw core::Unauthorized(std::string(kNoCredentials));
    }
    principal = Principal{row->get_string(0), *role, parse_permissions(row->get_string(2)), row->get_bool(3),
                          row->get_int(4)};
    cache.store(factory_id, claims.user_id, *principal, generation, now);
  }
  return context_for(claims, std::move(factory_id), *principal);
}

}  // namespace factoryops::auth
