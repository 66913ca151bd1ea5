// Email over SMTP with libcurl: smtp:// with STARTTLS (required, opportunistic or off) or
// smtps:// (implicit TLS), AUTH with a username and password, certificate checks against the
// system store or a CA file. One connection per message, so the sender holds no connection
// state: thread-safe, and it lives as long as the channel set that owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "notify/channel.hpp"
#include "notify/mime.hpp"

namespace factoryops::notify {

enum class StartTls {
  required,       // refuse to send unless the server upgrades the connection (CURLUSESSL_ALL)
  opportunistic,  // upgrade when the server offers STARTTLS, else send in clear (CURLUSESSL_TRY)
  off,            // never upgrade (a relay on loopback)
};

// "required" | "opportunistic" | "off"; throws core::Invalid("smtp_starttls", why).
StartTls parse_starttls(std::string_view text);

struct SmtpSettings {
  std::string url;       // smtp://host[:port] or smtps://host[:port]
  std::string username;  // empty: no AUTH
  std::string password;
  std::string from;  // "FactoryOps <alerts@example.com>" or a bare address
  StartTls starttls = StartTls::required;
  std::string ca_file;  // empty: the system's CA store
  // Accepts any certificate (a self-signed development server); configuration refuses it in
  // production.
  bool insecure_skip_verify = false;
  std::chrono::milliseconds timeout{30000};  // the whole conversation, connect included
};

class SmtpSender final : public EmailSender {
 public:
  // Throws core::Invalid naming "smtp_url" or "smtp_from" for settings that can never work.
  explicit SmtpSender(SmtpSettings settings);

  SendResult send(const EmailMessage& message) override;

  // The message send() transmits: RFC 5322 headers and the MIME body. Throws core::Invalid.
  std::string render(const EmailMessage& message, std::int64_t now_ms) const;

  const Mailbox& from() const { return from_; }

 private:
  SmtpSettings settings_;
  Mailbox from_;
  std::string endpoint_;  // the URL without credentials, for failure details
};

// What a failed SMTP conversation means for a worker: `curl_code` is libcurl's CURLcode,
// `smtp_code` the server's last reply code (0 when there was none), `server_reply` its last
// reply line and `curl_detail` libcurl's error text.
SendResult classify_smtp_failure(int curl_code, long smtp_code, std::string_view server_reply,
                                 std::string_view curl_detail, std::string_view endpoint);

}  // namespace factoryops::notify
