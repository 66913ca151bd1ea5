// The notification channels' common ground: what a message to one channel holds, the sender
// interfaces each transport implements (SMTP, Twilio WhatsApp) and the result of one attempt,
// which says whether trying again can help. Senders are thread-safe, block for at most their
// configured timeout (call them from a worker thread, never from an I/O thread) and live as
// long as the process's channel set (see channels.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace factoryops::notify {

enum class ChannelKind { email, whatsapp };

// "email" | "whatsapp": the `channel` label of alert_notifications_sent_total and the value
// stored in a rule's channel list.
std::string_view channel_name(ChannelKind kind);

// The outcome of one delivery attempt, as a worker logs it per alert.
struct SendResult {
  bool sent = false;
  // sent: the provider's handle on the message (Twilio's message SID, the email's Message-ID).
  std::string provider_id;
  // sent: what the provider said ("queued", "250 …"); failed: what went wrong, for people.
  std::string detail;
  // failed: a short stable cause for logs and dashboards: authentication, recipient_rejected,
  // sender_rejected, connect, timeout, tls, rate_limited, server_error, provider_error,
  // invalid_message, not_configured.
  std::string code;
  // failed: whether the same attempt later can succeed (timeouts, SMTP 4xx, HTTP 429/5xx);
  // false for what only a change of configuration or recipient fixes (bad password, 5xx
  // rejections, Twilio 4xx).
  bool retryable = false;

  static SendResult success(std::string provider_id, std::string detail);
  static SendResult failure(std::string code, std::string detail, bool retryable);
};

struct EmailMessage {
  std::vector<std::string> to;  // bare addresses, at least one
  std::string subject;          // UTF-8, one line
  std::string text;             // the text/plain part (UTF-8)
  std::string html;             // the text/html part; empty: the message is plain text only
  // Optional "<unique@domain>"; empty: a random one. A caller may derive it from the alert and
  // event so that a repeated attempt carries the same Message-ID.
  std::string message_id;
};

struct WhatsAppMessage {
  std::string to;    // E.164 ("+4915112345678"); a "whatsapp:" prefix is accepted
  std::string body;  // UTF-8, at most kMaxWhatsAppBody characters
};

// Twilio refuses longer message bodies (error 21617).
inline constexpr std::size_t kMaxWhatsAppBody = 1600;

class EmailSender {
 public:
  virtual ~EmailSender() = default;
  // Never throws for a delivery problem: every failure, including an invalid message
  // (header injection, bad address), comes back as a failed SendResult.
  virtual SendResult send(const EmailMessage& message) = 0;
};

class WhatsAppSender {
 public:
  virtual ~WhatsAppSender() = default;
  virtual SendResult send(const WhatsAppMessage& message) = 0;
};

// Counts one alert-notification attempt in alert_notifications_sent_total{channel,result}
// (result: "sent" or "failed"). send_alert() (channels.hpp) calls it; code that uses a sender
// directly for an alert calls it after each attempt. Invitation emails are not counted.
void count_alert_notification(ChannelKind kind, const SendResult& result);

}  // namespace factoryops::notify
