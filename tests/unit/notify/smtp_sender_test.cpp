#include "notify/smtp_sender.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "core/errors.hpp"

namespace factoryops::notify {
namespace {

constexpr const char* kEndpoint = "smtp://mail.example:587";

SmtpSettings settings() {
  SmtpSettings s;
  s.url = "smtp://127.0.0.1:9";
  s.from = "FactoryOps <alerts@plant.example>";
  s.username = "alerts";
  s.password = "secret";
  return s;
}

TEST(SmtpFailureTest, WrongPasswordIsAnAuthenticationFailureNotWorthRetrying) {
  SendResult r =
      classify_smtp_failure(CURLE_LOGIN_DENIED, 535, "535 5.7.8 Authentication credentials invalid",
                            "Authentication failed: 535", kEndpoint);
  EXPECT_FALSE(r.sent);
  EXPECT_EQ(r.code, "authentication");
  EXPECT_FALSE(r.retryable);
  EXPECT_NE(r.detail.find("authentication failed"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("535 5.7.8"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find(kEndpoint), std::string::npos) << r.detail;
  // 454: "temporary authentication failure" (RFC 4954) is worth another try.
  EXPECT_TRUE(
      classify_smtp_failure(CURLE_LOGIN_DENIED, 454, "454 4.7.0 Temporary failure", "", kEndpoint).retryable);
}

TEST(SmtpFailureTest, ConnectionProblemsAndTimeoutsAreRetryable) {
  SendResult down = classify_smtp_failure(CURLE_COULDNT_CONNECT, 0, "", "Failed to connect", kEndpoint);
  EXPECT_EQ(down.code, "connect");
  EXPECT_TRUE(down.retryable);
  SendResult slow = classify_smtp_failure(CURLE_OPERATION_TIMEDOUT, 0, "", "Operation timed out", kEndpoint);
  EXPECT_EQ(slow.code, "timeout");
  EXPECT_TRUE(slow.retryable);
  EXPECT_TRUE(classify_smtp_failure(CURLE_RECV_ERROR, 0, "", "Connection reset", kEndpoint).retryable);
}

TEST(SmtpFailureTest, RejectionsFollowSmtpReplyClasses) {
  SendResult permanent =
      classify_smtp_failure(CURLE_SEND_ERROR, 550, "550 5.1.1 No such user", "RCPT failed: 550", kEndpoint);
  EXPECT_EQ(permanent.code, "recipient_rejected");
  EXPECT_FALSE(permanent.retryable);
  EXPECT_NE(permanent.detail.find("No such user"), std::string::npos);
  SendResult transient = classify_smtp_failure(CURLE_SEND_ERROR, 451, "451 4.3.0 Try again later",
                                               "RCPT failed: 451", kEndpoint);
  EXPECT_EQ(transient.code, "recipient_rejected");
  EXPECT_TRUE(transient.retryable);
  SendResult sender =
      classify_smtp_failure(CURLE_SEND_ERROR, 553, "553 sender not allowed", "MAIL failed: 553", kEndpoint);
  EXPECT_EQ(sender.code, "sender_rejected");
  EXPECT_FALSE(sender.retryable);
}

TEST(SmtpFailureTest, MissingStartTlsAndBadCertificatesNeedConfiguration) {
  SendResult no_tls = classify_smtp_failure(CURLE_USE_SSL_FAILED, 0, "", "", kEndpoint);
  EXPECT_EQ(no_tls.code, "tls");
  EXPECT_FALSE(no_tls.retryable);
  EXPECT_NE(no_tls.detail.find("STARTTLS"), std::string::npos);
  SendResult cert =
      classify_smtp_failure(CURLE_PEER_FAILED_VERIFICATION, 0, "", "self-signed certificate", kEndpoint);
  EXPECT_EQ(cert.code, "tls");
  EXPECT_FALSE(cert.retryable);
}

TEST(SmtpSenderTest, RefusesUnusableSettings) {
  auto field = [](SmtpSettings s) -> std::string {
    try {
      SmtpSender sender(std::move(s));
    } catch (const core::Invalid& e) {
      return e.field();
    }
    return "(no error)";
  };
  EXPECT_EQ(field(settings()), "(no error)");
  SmtpSettings s = settings();
  s.url = "http://mail.example";
  EXPECT_EQ(field(s), "smtp_url");
  s = settings();
  s.from = "not an address";
  EXPECT_EQ(field(s), "smtp_from");
  s = settings();
  s.from = "Ops <ops@example.com>\r\nBcc: x@example.com";
  EXPECT_EQ(field(s), "smtp_from");
  EXPECT_EQ(parse_starttls("opportunistic"), StartTls::opportunistic);
  EXPECT_THROW(parse_starttls("yes"), core::Invalid);
}

TEST(SmtpSenderTest, RendersFromTheConfiguredSender) {
  SmtpSender sender(settings());
  EmailMessage m{{"ops@plant.example"}, "Test", "text", "<p>html</p>", ""};
  std::string rendered = sender.render(m, 1795855503000);
  EXPECT_NE(rendered.find("From: FactoryOps <alerts@plant.example>\r\n"), std::string::npos);
  EXPECT_NE(rendered.find("To: ops@plant.example\r\n"), std::string::npos);
  EXPECT_NE(rendered.find("Message-ID: <"), std::string::npos);
  EXPECT_NE(rendered.find("@plant.example>\r\n"), std::string::npos);
  EXPECT_NE(rendered.find("Date: Sat, 28 Nov 2026 08:45:03 +0000\r\n"), std::string::npos);
}

TEST(SmtpSenderTest, InjectedSubjectFailsBeforeAnyConnection) {
  // Port 9 on loopback has no server: reaching the network would fail with "connect" instead.
  SmtpSender sender(settings());
  SendResult r = sender.send({{"ops@plant.example"}, "Alert\r\nBcc: everyone@example.com", "text", "", ""});
  EXPECT_FALSE(r.sent);
  EXPECT_EQ(r.code, "invalid_message");
  EXPECT_FALSE(r.retryable);
  EXPECT_NE(r.detail.find("subject"), std::string::npos);
  SendResult bad_rcpt = sender.send({{"ops@plant.example\nBcc: x@example.com"}, "Alert", "text", "", ""});
  EXPECT_EQ(bad_rcpt.code, "invalid_message");
  SendResult none = sender.send({{}, "Alert", "text", "", ""});
  EXPECT_EQ(none.code, "invalid_message");
}

}  // namespace
}  // namespace factoryops::notify
