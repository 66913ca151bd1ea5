#include "users/invitation_mailer.hpp"

#include <boost/json.hpp>

#include "audit/audit_service.hpp"
#include "auth/context.hpp"
#include "auth/crypto.hpp"
#include "core/errors.hpp"
#include "core/logging.hpp"
#include "db/clock.hpp"
#include "notify/invitation_message.hpp"
#include "users/user_repository.hpp"

namespace factoryops::users {
namespace json = boost::json;

std::string_view invitation_email_name(InvitationEmail state) {
  switch (state) {
    case InvitationEmail::queued: return "queued";
    case InvitationEmail::not_configured: return "not_configured";
    case InvitationEmail::not_queued: return "not_queued";
  }
  return "not_queued";
}

InvitationEmail InvitationMailer::enqueue(const core::FactoryId& factory, std::string_view request_id,
                                          std::int64_t invitation_id, std::string_view token) {
  if (!channels_.email_enabled) return InvitationEmail::not_configured;
  json::object payload;
  payload["invitation_id"] = invitation_id;
  payload["token"] = token;
  try {
    jobs_.enqueue(queue::make_job(queue::kNotificationsQueue, kInvitationTask, factory.str(), request_id,
                                  json::serialize(payload)));
    return InvitationEmail::queued;
  } catch (const std::exception& e) {
    log::error("invitation email not queued",
               {{"invitation_id", invitation_id}, {"error", std::string_view(e.what())}});
    return InvitationEmail::not_queued;
  }
}

void InvitationMailer::handle(const queue::Job& job) {
  boost::system::error_code ec;
  json::value doc = json::parse(job.payload, ec);
  if (ec || !doc.is_object()) throw core::Invalid("payload", "must be a JSON object");
  const auto& payload = doc.as_object();
  const auto* id = payload.if_contains("invitation_id");
  if (!id || !id->is_int64()) throw core::Invalid("payload.invitation_id", "must be an integer");
  const auto* token = payload.if_contains("token");
  if (!token || !token->is_string() || token->as_string().empty())
    throw core::Invalid("payload.token", "must be a non-empty string");
  const core::FactoryId factory(job.factory_id);
  const std::int64_t invitation_id = id->as_int64();

  notify::InvitationNotice notice;
  std::string email;
  {
    auto conn = database_.acquire();
    // Looked up by the token's digest, as accepting does: an invitation replaced since (a new
    // one for the same address) or of another factory finds nothing.
    auto found = UserRepository::find_invitation(*conn, auth::sha256_hex(token->as_string()));
    if (!found || found->id != invitation_id || found->factory_id != factory || found->accepted_at_ms ||
        found->expires_at_ms <= db::now_ms()) {
      log::info("invitation no longer open; email not sent", {{"invitation_id", invitation_id}});
      return;
    }
    email = found->email;
    notice.role = std::string(auth::role_name(found->role));
    notice.expires_at_ms = found->expires_at_ms;
    if (auto row = conn->query_one("SELECT name, timezone FROM factories WHERE id = ?", {factory.str()})) {
      notice.factory_name = row->get_string(0);
      notice.timezone = row->get_string(1);
    }
    if (auto row = conn->query_one("SELECT u.name, u.email FROM invitations i JOIN users u ON u.id = "
                                   "i.invited_by AND u.factory_id = i.factory_id WHERE i.id = ? AND "
                                   "i.factory_id = ?",
                                   {invitation_id, factory.str()})) {
      notice.invited_by = row->get_string(0).empty() ? row->get_string(1) : row->get_string(0);
    }
  }
  notice.accept_url = notify::invitation_link(channels_.public_url, token->as_string());
  auto rendered = notify::render_invitation(notice);
  notify::EmailMessage message{
      {email},
      rendered.subject,
      rendered.text,
      rendered.html,
      "<invitation-" + std::to_string(invitation_id) + "-" + job.id + "@factoryops>"};
  auto result = channels_.email->send(message);

  // Every attempt is on the factory's audit log, where its super admin looks for it.
  json::object details;
  details["email"] = email;
  details["attempt"] = job.attempts;
  if (result.sent) {
    details["message_id"] = result.provider_id;
  } else {
    details["code"] = result.code;
    details["detail"] = result.detail;
    details["retried"] = result.retryable;
  }
  {
    auto conn = database_.acquire();
    audit::record(*conn, factory, audit::RequestMeta{std::nullopt, std::nullopt, job.request_id},
                  result.sent ? "user.invitation_emailed" : "user.invitation_email_failed", "invitation",
                  std::to_string(invitation_id), json::serialize(details));
  }
  if (result.sent) {
    log::info("invitation emailed", {{"invitation_id", invitation_id}});
    return;
  }
  log::warn("invitation email failed",
            {{"invitation_id", invitation_id}, {"code", result.code}, {"retryable", result.retryable}});
  if (result.retryable) throw core::Unavailable("invitation email failed: " + result.code);
}

}  // namespace factoryops::users
