// Local stand-ins for the notification providers: a real SMTP server (aiosmtpd, Debian's
// python3-aiosmtpd) with STARTTLS on a certificate generated for the test and AUTH required,
// and an HTTP endpoint that speaks Twilio's Messages API wire format. Each starts on a free
// loopback port in its own temporary directory, is ready when its constructor returns, records
// what it received as JSON (see tests/tools/smtp_sink.py, twilio_mock.py) and stops when the
// object dies. Not thread-safe; one owner per server.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/process.hpp"

namespace factoryops::testing {

class SmtpSink {
 public:
  enum class Mode {
    starttls,  // STARTTLS required before anything else, then AUTH required
    smtps,     // TLS from the first byte, AUTH required
    plain,     // neither TLS nor AUTH offered
  };
  explicit SmtpSink(Mode mode = Mode::starttls);

  int port() const { return port_; }
  // smtp://127.0.0.1:port, or smtps:// in Mode::smtps.
  std::string url() const;
  const std::string& username() const { return username_; }
  const std::string& password() const { return password_; }
  // The server's self-signed certificate (for 127.0.0.1 and localhost): it is its own CA.
  std::string ca_file() const { return (dir_.path() / "cert.pem").string(); }

  // The messages received so far, oldest first: envelope, tls, login, decoded headers,
  // header_counts, content_type, parts (content_type, charset, transfer_encoding, content),
  // defects and raw.
  std::vector<boost::json::object> messages() const;
  // Waits until at least `count` messages have arrived.
  bool wait_for_messages(std::size_t count,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  void stop();

 private:
  TempDir dir_{"factoryops-smtp"};
  Mode mode_;
  int port_;
  std::string username_ = "factoryops-alerts";
  std::string password_;
  std::unique_ptr<Process> process_;
};

class TwilioMock {
 public:
  // Recipients the mock answers specially (the rest get 201 and a message sid).
  static constexpr const char* kInvalidNumber = "+15005550001";      // 400, error 21211
  static constexpr const char* kRateLimitedNumber = "+15005550429";  // 429, error 20429
  static constexpr const char* kServerErrorNumber = "+15005550500";  // 500, error 20500
  static constexpr const char* kSlowNumber = "+15005550504";         // answers after 5 s

  TwilioMock();

  // The base URL to use instead of https://api.twilio.com.
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& account_sid() const { return account_sid_; }
  const std::string& auth_token() const { return auth_token_; }

  // The requests received so far, oldest first: method, path, headers (lower-case names),
  // body, form, form_counts, and the status and answer given.
  std::vector<boost::json::object> requests() const;

  void stop();

 private:
  TempDir dir_{"factoryops-twilio"};
  int port_;
  std::string account_sid_;
  std::string auth_token_;
  std::unique_ptr<Process> process_;
};

}  // namespace factoryops::testing
