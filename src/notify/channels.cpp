#include "notify/channels.hpp"

#include <cctype>

#include "core/errors.hpp"
#include "core/logging.hpp"

namespace factoryops::notify {
namespace {

// The settings' field names are the configuration keys in lower case.
core::ConfigError config_error(const core::Invalid& e) {
  std::string key = "FACTORYOPS_";
  for (char c : e.field()) key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string why = e.what();
  if (why.rfind(e.field() + ": ", 0) == 0) why.erase(0, e.field().size() + 2);
  return core::ConfigError(key, why);
}

}  // namespace

SendResult DisabledEmailSender::send(const EmailMessage&) {
  return SendResult::failure("not_configured", why_, false);
}

SendResult DisabledWhatsAppSender::send(const WhatsAppMessage&) {
  return SendResult::failure("not_configured", why_, false);
}

SendResult send_alert(const Channels& channels, ChannelKind kind, const std::string& recipient,
                      const RenderedAlert& alert, const std::string& message_id) {
  SendResult result = kind == ChannelKind::email
                          ? channels.email->send(to_email(alert.email, {recipient}, message_id))
                          : channels.whatsapp->send({recipient, alert.whatsapp});
  count_alert_notification(kind, result);
  return result;
}

SmtpSettings smtp_settings(const core::Config& c) {
  SmtpSettings s;
  s.url = c.smtp_url;
  s.username = c.smtp_username;
  s.password = c.smtp_password;
  s.from = c.smtp_from;
  s.starttls = parse_starttls(c.smtp_starttls);
  s.ca_file = c.smtp_ca_file.string();
  s.insecure_skip_verify = c.smtp_tls_insecure;
  s.timeout = std::chrono::seconds(c.smtp_timeout_seconds);
  return s;
}

TwilioSettings twilio_settings(const core::Config& c) {
  TwilioSettings s;
  s.api_url = c.twilio_api_url;
  s.account_sid = c.twilio_account_sid;
  s.auth_token = c.twilio_auth_token;
  s.from = c.twilio_whatsapp_from;
  s.timeout = std::chrono::seconds(c.twilio_timeout_seconds);
  return s;
}

Channels make_channels(const core::Config& config) {
  Channels channels;
  channels.public_url = config.public_url;

  core::ChannelSetup email = core::email_channel_setup(config);
  if (email.enabled) {
    try {
      channels.email = std::make_shared<SmtpSender>(smtp_settings(config));
    } catch (const core::Invalid& e) {
      throw config_error(e);
    }
    channels.email_enabled = true;
  } else if (!email.problem.empty()) {
    log::warn("email notifications are off: the SMTP configuration is incomplete",
              {{"key", email.key}, {"problem", email.problem}});
    channels.email =
        std::make_shared<DisabledEmailSender>("email is off: " + email.key + " " + email.problem);
  } else {
    channels.email = std::make_shared<DisabledEmailSender>("email is off: FACTORYOPS_SMTP_URL is not set");
  }

  core::ChannelSetup whatsapp = core::whatsapp_channel_setup(config);
  if (whatsapp.enabled) {
    try {
      channels.whatsapp = std::make_shared<TwilioWhatsAppSender>(twilio_settings(config));
    } catch (const core::Invalid& e) {
      throw config_error(e);
    }
    channels.whatsapp_enabled = true;
  } else if (!whatsapp.problem.empty()) {
    log::warn("WhatsApp notifications are off: the Twilio configuration is incomplete",
              {{"key", whatsapp.key}, {"problem", whatsapp.problem}});
    channels.whatsapp =
        std::make_shared<DisabledWhatsAppSender>("WhatsApp is off: " + whatsapp.key + " " + whatsapp.problem);
  } else {
    channels.whatsapp = std::make_shared<DisabledWhatsAppSender>(
        "WhatsApp is off: FACTORYOPS_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _WHATSAPP_FROM are not set");
  }
  return channels;
}

}  // namespace factoryops::notify
