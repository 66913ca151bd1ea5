// WhatsApp through Twilio's Messages API: POST {api}/2010-04-01/Accounts/{AccountSid}/Messages.json
// with HTTP basic auth (AccountSid:AuthToken) and the form fields To, From and Body, each
// number as "whatsapp:+E164"; Twilio answers 201 with the message's sid and status, or an
// error object (code, message, more_info). One HTTPS request per message, no shared state:
// thread-safe; lives as long as the channel set that owns it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "notify/channel.hpp"

namespace factoryops::notify {

struct TwilioSettings {
  std::string api_url = "https://api.twilio.com";  // another base for a regional edge or a test double
  std::string account_sid;                         // "AC" + 32 hex digits
  std::string auth_token;
  std::string from;     // the WhatsApp sender in E.164 ("whatsapp:" prefix accepted)
  std::string ca_file;  // empty: the system's CA store
  std::chrono::milliseconds timeout{15000};
};

class TwilioWhatsAppSender final : public WhatsAppSender {
 public:
  // Throws core::Invalid naming "twilio_account_sid", "twilio_auth_token",
  // "twilio_whatsapp_from" or "twilio_api_url".
  explicit TwilioWhatsAppSender(TwilioSettings settings);

  SendResult send(const WhatsAppMessage& message) override;

  const std::string& messages_url() const { return messages_url_; }

 private:
  TwilioSettings settings_;
  std::string from_;  // whatsapp:+E164
  std::string messages_url_;
};

// "whatsapp:+4915112345678" for "+4915112345678" or "whatsapp:+4915112345678"; nullopt when
// the number is not E.164 (a '+', a non-zero digit, 7 to 15 digits in all).
std::optional<std::string> whatsapp_address(std::string_view number);

// application/x-www-form-urlencoded: unreserved characters kept, space as '+', the rest %XX.
std::string form_encode(const std::vector<std::pair<std::string_view, std::string_view>>& fields);

// The request body for one message: To, From and Body. Throws core::Invalid naming "to" or
// "body" (empty, or longer than kMaxWhatsAppBody characters).
std::string twilio_message_form(std::string_view from_address, const WhatsAppMessage& message);

// What Twilio's answer means: 2xx with a sid is sent; 401 is an authentication failure, 429
// and 5xx are worth retrying, other 4xx (an invalid number, 21211; an unknown sender) are not.
SendResult interpret_twilio_response(long http_status, std::string_view body);

}  // namespace factoryops::notify
