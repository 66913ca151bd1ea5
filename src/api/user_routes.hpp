// HTTP routes of user management (docs/api-identity.md, "Users"): list, invite, edit,
// deactivate. Super admin only (Action::manage_users). Handlers only parse and serialise.
#pragma once

#include "auth/authenticator.hpp"
#include "http/router.hpp"
#include "users/invitation_mailer.hpp"
#include "users/user_service.hpp"

namespace factoryops::api {

// The router keeps references: `authenticator`, `users` and `mailer` must outlive it. The
// mailer queues the invitation email (its `email` field in the answer says what became of it).
void register_user_routes(http::Router& router, const auth::Authenticator& authenticator,
                          users::UserService& users, users::InvitationMailer& mailer);

}  // namespace factoryops::api
