#include "auth/jwt_authenticator.hpp"

#include <chrono>

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

FactoryContext JwtAuthenticator::authenticate(const http::Request& request) const {
  auto header = request.headers.get("Authorization");
  if (!header || header->size() < 8 || !http::iequals(header->substr(0, 7), "Bearer ")) {
    throw core::Unauthorized(std::string(kNoCredentials));
  }
  std::string_view token = header->substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  auto verified = verify_access_token(*keys_.current(), token, now_seconds());
  if (!verified.claims) {
    log::debug("access token rejected", {{"reason", verified.problem}});
    throw core::Unauthorized(std::string(kNoCredentials));
  }
  const AccessClaims& claims = *verified.claims;
  FactoryContext context{core::FactoryId(claims.factory_id), claims.user_id, {}, claims.role, {}, {}};
  auto conn = db_.acquire();
  auto row = conn->query_one(
      "SELECT email, role, permissions, is_active, token_version FROM users WHERE factory_id = ? AND id = ?",
      {claims.factory_id, claims.user_id});
  if (!row || !row->get_bool(3) || row->get_int(4) != claims.token_version) {
    log::debug("access token rejected", {{"reason", "user unknown, inactive or token version changed"}});
    throw core::Unauthorized(std::string(kNoCredentials));
  }
  auto role = parse_role(row->get_string(1));
  if (!role) throw core::Unauthorized(std::string(kNoCredentials));
  context.email = row->get_string(0);
  context.role = *role;
  context.permissions = parse_permissions(row->get_string(2));
  return context;
}

}  // namespace factoryops::auth
