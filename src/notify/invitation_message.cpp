#include "notify/invitation_message.hpp"

#include <cctype>

#include "notify/text_format.hpp"

namespace factoryops::notify {
namespace {

// Invitation tokens are base64url, but the link must stay a valid URL whatever it carries.
std::string query_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string invitation_link(std::string_view public_url, std::string_view token) {
  std::string base(public_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/accept-invite?token=" + query_escape(token);
}

RenderedEmail render_invitation(const InvitationNotice& n) {
  std::string expires = format_local_time(n.expires_at_ms, n.timezone);
  std::string inviter = n.invited_by.empty() ? std::string() : n.invited_by + " invites you";
  std::string lead = n.invited_by.empty() ? "You are invited" : inviter;
  lead += " to join " + n.factory_name + " on FactoryOps as " + n.role + ".";

  RenderedEmail out;
  out.subject = single_line("Invitation to " + n.factory_name + " on FactoryOps");
  out.text =
      lead + "\n\nAccept the invitation and choose your password:\n" + n.accept_url +
      "\n\nThe link works once and expires on " + expires +
      ".\nIf you did not expect this invitation, ignore this email: nothing happens without the link.\n";
  out.html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(out.subject) +
      "</title></head>\n"
      "<body style=\"margin:0;padding:24px;background:#f3f4f6;font-family:Arial,Helvetica,sans-serif;"
      "color:#111827\">\n"
      "<div style=\"max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px\">\n"
      "<h1 style=\"margin:0 0 16px;font-size:18px\">" +
      html_escape(out.subject) + "</h1>\n<p style=\"margin:0 0 16px\">" + html_escape(lead) +
      "</p>\n<p style=\"margin:0 0 16px\"><a href=\"" + html_escape(n.accept_url) +
      "\" style=\"display:inline-block;padding:8px 16px;border-radius:6px;background:#1d4ed8;"
      "color:#ffffff;text-decoration:none\">Accept the invitation</a></p>\n"
      "<p style=\"margin:0 0 16px;font-size:12px;color:#6b7280\">" +
      html_escape(n.accept_url) +
      "</p>\n<p style=\"margin:0;font-size:12px;color:#6b7280\">The link works once "
      "and expires on " +
      html_escape(expires) +
      ". If you did not expect this invitation, ignore this email: nothing happens without the link.</p>\n"
      "</div>\n</body></html>\n";
  return out;
}

}  // namespace factoryops::notify
