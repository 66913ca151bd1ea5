// The process's notification channels, built from configuration: SMTP email and Twilio
// WhatsApp when configured, otherwise senders that fail every message with a reason naming
// the key to set. Switching mail server or Twilio account is a configuration change only.
// Built once at start-up by the wiring (app/), shared by the roles that send (notifications
// for alerts, api for invitations); the senders are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/config.hpp"
#include "notify/alert_message.hpp"
#include "notify/channel.hpp"
#include "notify/smtp_sender.hpp"
#include "notify/twilio_whatsapp.hpp"

namespace factoryops::notify {

struct Channels {
  std::shared_ptr<EmailSender> email;        // never null
  std::shared_ptr<WhatsAppSender> whatsapp;  // never null
  bool email_enabled = false;
  bool whatsapp_enabled = false;
  std::string public_url;  // the base of links in messages (core::Config::public_url)
};

SmtpSettings smtp_settings(const core::Config& config);
TwilioSettings twilio_settings(const core::Config& config);

// Throws core::ConfigError naming the key when a configured channel's settings cannot work
// (e.g. an unparsable FACTORYOPS_SMTP_FROM). A half-configured channel (development only:
// production refuses it when loading the configuration) stays off, with a warning logged.
Channels make_channels(const core::Config& config);

// Sends one alert event to one recipient on `kind`'s channel (an email address, or a WhatsApp
// number in E.164) and counts the attempt in alert_notifications_sent_total: the
// notifications worker's single call per (alert event, recipient, attempt). `message_id`
// (email only, optional) lets a retried attempt keep the first one's Message-ID.
SendResult send_alert(const Channels& channels, ChannelKind kind, const std::string& recipient,
                      const RenderedAlert& alert, const std::string& message_id = {});

// A sender for a channel that is off: every attempt fails, not retryable, code
// "not_configured", with `why` as the detail.
class DisabledEmailSender final : public EmailSender {
 public:
  explicit DisabledEmailSender(std::string why) : why_(std::move(why)) {}
  SendResult send(const EmailMessage& message) override;

 private:
  std::string why_;
};

class DisabledWhatsAppSender final : public WhatsAppSender {
 public:
  explicit DisabledWhatsAppSender(std::string why) : why_(std::move(why)) {}
  SendResult send(const WhatsAppMessage& message) override;

 private:
  std::string why_;
};

}  // namespace factoryops::notify
