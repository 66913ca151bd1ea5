// Alert and invitation emails through SmtpSender to a real SMTP server (aiosmtpd) on loopback:
// STARTTLS with a certificate made for the run, AUTH required; the server parses what arrives
// with Python's email package, so the MIME encoding is checked by an independent parser.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "harness/notify_servers.hpp"
#include "notify/alert_message.hpp"
#include "notify/invitation_message.hpp"
#include "notify/smtp_sender.hpp"

namespace factoryops::testing {
namespace {

namespace json = boost::json;
using notify::SendResult;

constexpr const char* kPublicUrl = "https://ops.factoryops.test";

notify::SmtpSettings settings_for(const SmtpSink& sink) {
  notify::SmtpSettings s;
  s.url = sink.url();
  s.username = sink.username();
  s.password = sink.password();
  s.from = "FactoryOps Alerts <alerts@factoryops.test>";
  s.starttls = notify::StartTls::required;
  s.ca_file = sink.ca_file();
  s.timeout = std::chrono::seconds(10);
  return s;
}

notify::AlertNotice compressor_alert() {
  notify::AlertNotice n;
  n.alert_id = 4711;
  n.factory_id = "muenchen-1";
  n.factory_name = "Werk M\xC3\xBCnchen";
  n.timezone = "Europe/Berlin";
  n.machine_id = "compressor-1";
  n.machine_name = "Compressor 1";
  n.rule_name = "Power > 75 kW & rising";
  n.severity = "critical";
  n.parameter = "power_kw";
  n.condition = "> 75 for 5 min";
  n.value = 82.4;
  n.threshold = 75;
  n.unit = "kW";
  n.at_ms = 1795855503000;  // 2026-11-28 09:45:03 CET
  return n;
}

std::string str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string unix_lines(std::string text) {
  for (std::size_t at; (at = text.find("\r\n")) != std::string::npos;) text.erase(at, 1);
  return text;
}

TEST(NotifyEmailTest, AlertEmailArrivesWithEnvelopeHeadersAndBothParts) {
  SmtpSink sink;
  notify::SmtpSender sender(settings_for(sink));
  notify::RenderedAlert rendered = notify::render_alert(compressor_alert(), kPublicUrl);
  SendResult result =
      sender.send(notify::to_email(rendered.email, {"maintenance@plant.test", "shift.lead@plant.test"}));
  ASSERT_TRUE(result.sent) << result.code << ": " << result.detail;
  EXPECT_NE(result.detail.find("250"), std::string::npos) << result.detail;
  ASSERT_TRUE(sink.wait_for_messages(1));
  json::object m = sink.messages().at(0);

  EXPECT_EQ(str(m, "mail_from"), "alerts@factoryops.test");
  EXPECT_EQ(json::serialize(m.at("rcpt_tos")), R"(["maintenance@plant.test","shift.lead@plant.test"])");
  EXPECT_TRUE(m.at("tls").as_bool()) << "STARTTLS was required";
  EXPECT_EQ(str(m, "login"), sink.username());
  EXPECT_TRUE(m.at("defects").as_array().empty()) << json::serialize(m.at("defects"));

  const json::object& headers = m.at("headers").as_object();
  EXPECT_EQ(str(headers, "Subject"), rendered.email.subject);
  EXPECT_EQ(str(headers, "Subject"),
            "[CRITICAL] Power > 75 kW & rising - Compressor 1 - Werk M\xC3\xBCnchen");
  EXPECT_EQ(str(headers, "From"), "FactoryOps Alerts <alerts@factoryops.test>");
  EXPECT_EQ(str(headers, "To"), "maintenance@plant.test, shift.lead@plant.test");
  EXPECT_EQ(str(headers, "Message-ID"), result.provider_id);
  EXPECT_EQ(str(headers, "MIME-Version"), "1.0");
  EXPECT_FALSE(str(headers, "Date").empty());
  EXPECT_EQ(str(headers, "Auto-Submitted"), "auto-generated");
  for (const auto& [name, count] : m.at("header_counts").as_object()) {
    EXPECT_EQ(count.as_int64(), 1) << name << " appears more than once";
  }
  EXPECT_EQ(m.at("header_counts").as_object().count("Bcc"), 0u);

  EXPECT_EQ(str(m, "content_type"), "multipart/alternative");
  const json::array& parts = m.at("parts").as_array();
  ASSERT_EQ(parts.size(), 2u);
  const json::object& text = parts[0].as_object();
  const json::object& html = parts[1].as_object();
  EXPECT_EQ(str(text, "content_type"), "text/plain");
  EXPECT_EQ(str(html, "content_type"), "text/html");
  EXPECT_EQ(str(text, "charset"), "utf-8");
  EXPECT_EQ(str(html, "charset"), "utf-8");
  EXPECT_EQ(unix_lines(str(text, "content")), rendered.email.text);
  EXPECT_EQ(unix_lines(str(html, "content")), rendered.email.html);
  for (const char* fact :
       {"Werk M\xC3\xBCnchen", "muenchen-1", "Compressor 1", "compressor-1", "power_kw", "82.4 kW", "75 kW",
        "2026-11-28 09:45:03 CET", "https://ops.factoryops.test/alerts/4711"}) {
    EXPECT_NE(str(text, "content").find(fact), std::string::npos) << fact;
    EXPECT_NE(str(html, "content").find(fact), std::string::npos) << fact;
  }
  EXPECT_NE(str(text, "content").find("Power > 75 kW & rising"), std::string::npos);
  EXPECT_NE(str(html, "content").find("Power &gt; 75 kW &amp; rising"), std::string::npos);
  EXPECT_NE(str(html, "content").find("href=\"https://ops.factoryops.test/alerts/4711\""), std::string::npos);
}

TEST(NotifyEmailTest, InvitationEmailGoesThroughTheSameChannel) {
  SmtpSink sink;
  notify::SmtpSender sender(settings_for(sink));
  notify::InvitationNotice invitation;
  invitation.factory_name = "Werk M\xC3\xBCnchen";
  invitation.invited_by = "Asha Rao";
  invitation.role = "operator";
  invitation.accept_url = notify::invitation_link(kPublicUrl, "Zm9vYmFyLXRva2Vu");
  invitation.expires_at_ms = 1795855503000;
  invitation.timezone = "Europe/Berlin";
  notify::RenderedEmail email = notify::render_invitation(invitation);
  SendResult result = sender.send(notify::to_email(email, {"new.operator@plant.test"}));
  ASSERT_TRUE(result.sent) << result.detail;
  ASSERT_TRUE(sink.wait_for_messages(1));
  json::object m = sink.messages().at(0);
  EXPECT_EQ(json::serialize(m.at("rcpt_tos")), R"(["new.operator@plant.test"])");
  EXPECT_EQ(str(m.at("headers").as_object(), "Subject"), "Invitation to Werk M\xC3\xBCnchen on FactoryOps");
  for (const auto& part : m.at("parts").as_array()) {
    EXPECT_NE(str(part.as_object(), "content")
                  .find("https://ops.factoryops.test/accept-invite?token=Zm9vYmFyLXRva2Vu"),
              std::string::npos);
  }
}

TEST(NotifyEmailTest, WrongPasswordFailsNamingAuthentication) {
  SmtpSink sink;
  notify::SmtpSettings s = settings_for(sink);
  s.password = "not-the-password";
  notify::SmtpSender sender(s);
  SendResult result = sender.send({{"ops@plant.test"}, "Alert", "text", "", ""});
  EXPECT_FALSE(result.sent);
  EXPECT_EQ(result.code, "authentication");
  EXPECT_FALSE(result.retryable) << "a wrong password does not fix itself";
  EXPECT_NE(result.detail.find("authentication failed"), std::string::npos) << result.detail;
  EXPECT_NE(result.detail.find("535"), std::string::npos) << result.detail;
  EXPECT_EQ(result.detail.find("not-the-password"), std::string::npos) << "the password never appears";
  EXPECT_TRUE(sink.messages().empty());
}

TEST(NotifyEmailTest, ServerDownIsARetryableConnectFailure) {
  SmtpSink sink;
  notify::SmtpSettings s = settings_for(sink);
  sink.stop();
  notify::SmtpSender sender(s);
  SendResult result = sender.send({{"ops@plant.test"}, "Alert", "text", "", ""});
  EXPECT_FALSE(result.sent);
  EXPECT_EQ(result.code, "connect");
  EXPECT_TRUE(result.retryable);
  EXPECT_NE(result.detail.find(sink.url()), std::string::npos) << result.detail;
}

TEST(NotifyEmailTest, SilentServerIsARetryableTimeout) {
  // Accepts connections (the kernel completes the handshake) but never greets.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  notify::SmtpSettings s;
  s.url = "smtp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  s.from = "alerts@factoryops.test";
  s.timeout = std::chrono::seconds(1);
  notify::SmtpSender sender(s);
  auto started = std::chrono::steady_clock::now();
  SendResult result = sender.send({{"ops@plant.test"}, "Alert", "text", "", ""});
  auto took = std::chrono::steady_clock::now() - started;
  ::close(fd);
  EXPECT_FALSE(result.sent);
  EXPECT_EQ(result.code, "timeout");
  EXPECT_TRUE(result.retryable);
  EXPECT_LT(took, std::chrono::seconds(5)) << "the configured timeout bounds the attempt";
}

TEST(NotifyEmailTest, UntrustedCertificateIsRefusedUnlessExplicitlyInsecure) {
  SmtpSink sink;
  notify::SmtpSettings s = settings_for(sink);
  s.ca_file.clear();  // the system store does not know the test's self-signed certificate
  SendResult refused = notify::SmtpSender(s).send({{"ops@plant.test"}, "Alert", "text", "", ""});
  EXPECT_FALSE(refused.sent);
  EXPECT_EQ(refused.code, "tls");
  EXPECT_FALSE(refused.retryable);
  EXPECT_TRUE(sink.messages().empty());

  s.insecure_skip_verify = true;
  SendResult accepted = notify::SmtpSender(s).send({{"ops@plant.test"}, "Alert", "text", "", ""});
  EXPECT_TRUE(accepted.sent) << accepted.detail;
  EXPECT_TRUE(sink.wait_for_messages(1));
}

TEST(NotifyEmailTest, RequiredStartTlsRefusesAServerWithoutIt) {
  SmtpSink sink(SmtpSink::Mode::plain);
  notify::SmtpSettings s;
  s.url = sink.url();
  s.from = "alerts@factoryops.test";
  s.starttls = notify::StartTls::required;
  SendResult refused = notify::SmtpSender(s).send({{"ops@plant.test"}, "Alert", "text", "", ""});
  EXPECT_FALSE(refused.sent);
  EXPECT_EQ(refused.code, "tls");
  EXPECT_FALSE(refused.retryable);
  EXPECT_NE(refused.detail.find("STARTTLS"), std::string::npos);
  EXPECT_TRUE(sink.messages().empty()) << "nothing may travel in clear when STARTTLS is required";

  s.starttls = notify::StartTls::opportunistic;
  SendResult sent = notify::SmtpSender(s).send({{"ops@plant.test"}, "Alert", "text", "", ""});
  EXPECT_TRUE(sent.sent) << sent.detail;
  ASSERT_TRUE(sink.wait_for_messages(1));
  EXPECT_FALSE(sink.messages().at(0).at("tls").as_bool());
}

TEST(NotifyEmailTest, ImplicitTlsOnSmtps) {
  SmtpSink sink(SmtpSink::Mode::smtps);
  notify::SmtpSender sender(settings_for(sink));
  SendResult result = sender.send({{"ops@plant.test"}, "Alert over smtps", "text", "<p>html</p>", ""});
  ASSERT_TRUE(result.sent) << result.code << ": " << result.detail;
  ASSERT_TRUE(sink.wait_for_messages(1));
  json::object m = sink.messages().at(0);
  EXPECT_EQ(str(m.at("headers").as_object(), "Subject"), "Alert over smtps");
  EXPECT_EQ(str(m, "login"), sink.username());
}

TEST(NotifyEmailTest, RejectedRecipientsFollowTheServersReplyClass) {
  SmtpSink sink;
  notify::SmtpSender sender(settings_for(sink));
  SendResult permanent = sender.send({{"reject@plant.test"}, "Alert", "text", "", ""});
  EXPECT_FALSE(permanent.sent);
  EXPECT_EQ(permanent.code, "recipient_rejected");
  EXPECT_FALSE(permanent.retryable);
  EXPECT_NE(permanent.detail.find("550"), std::string::npos) << permanent.detail;
  SendResult transient = sender.send({{"later@plant.test"}, "Alert", "text", "", ""});
  EXPECT_EQ(transient.code, "recipient_rejected");
  EXPECT_TRUE(transient.retryable);
  EXPECT_NE(transient.detail.find("451"), std::string::npos) << transient.detail;
  EXPECT_TRUE(sink.messages().empty());
}

}  // namespace
}  // namespace factoryops::testing
