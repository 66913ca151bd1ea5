// The words of an invitation email: who invites whom to which factory, with which role, the
// link that accepts it and when that link expires. Pure functions, thread-safe; the identity
// code (users::UserService::invite) supplies the facts and sends the result through the
// email channel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "notify/alert_message.hpp"

namespace factoryops::notify {

struct InvitationNotice {
  std::string factory_name;
  std::string invited_by;  // the inviter's name or email; empty leaves it out
  std::string role;        // auth::role_name(), e.g. "operator"
  std::string accept_url;  // absolute; see invitation_link()
  std::int64_t expires_at_ms = 0;
  std::string timezone = "UTC";  // the factory's IANA zone, for the expiry time
};

// "{public_url}/accept-invite?token={token}": the web app's page that accepts an invitation.
std::string invitation_link(std::string_view public_url, std::string_view token);

RenderedEmail render_invitation(const InvitationNotice& notice);

}  // namespace factoryops::notify
