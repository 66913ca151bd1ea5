// HTTP routes of sign-in and the caller's own account (docs/api-identity.md,
// "Authentication"): login, refresh, logout and accept-invite are public; me and
// change-password need a signed-in caller. Handlers only parse and serialise.
#pragma once

#include "auth/authenticator.hpp"
#include "auth/session_service.hpp"
#include "http/router.hpp"

namespace factoryops::api {

// The router keeps references: `authenticator` and `sessions` must outlive it.
void register_auth_routes(http::Router& router, const auth::Authenticator& authenticator,
                          auth::SessionService& sessions);

}  // namespace factoryops::api
