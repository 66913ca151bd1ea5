#include "notify/alert_message.hpp"

#include <gtest/gtest.h>

#include "notify/invitation_message.hpp"
#include "notify/text_format.hpp"

namespace factoryops::notify {
namespace {

constexpr std::int64_t kAt = 1795855503000;  // 2026-11-28T08:45:03Z, 14:15:03 in Asia/Kolkata
constexpr const char* kPublicUrl = "https://ops.plant.example/";

AlertNotice compressor_alert() {
  AlertNotice n;
  n.event = AlertEvent::opened;
  n.alert_id = 42;
  n.factory_id = "pune-1";
  n.factory_name = "Pune Plant";
  n.timezone = "Asia/Kolkata";
  n.machine_id = "compressor-1";
  n.machine_name = "Compressor 1";
  n.rule_name = "Compressor power high";
  n.severity = "critical";
  n.parameter = "power_kw";
  n.condition = "> 75 for 5 min";
  n.value = 82.4;
  n.threshold = 75;
  n.unit = "kW";
  n.at_ms = kAt;
  return n;
}

TEST(TextFormatTest, NumbersTimesAndEscaping) {
  EXPECT_EQ(format_number(82.4), "82.4");
  EXPECT_EQ(format_number(75), "75");
  EXPECT_EQ(format_number(-0.125), "-0.125");
  EXPECT_EQ(format_number(1.23456), "1.235");
  EXPECT_EQ(format_number(-0.0001), "0");
  EXPECT_EQ(format_number(1.0 / 0.0), "n/a");
  EXPECT_EQ(format_local_time(kAt, "Asia/Kolkata"), "2026-11-28 14:15:03 IST");
  EXPECT_EQ(format_local_time(kAt, "Europe/Berlin"), "2026-11-28 09:45:03 CET");
  EXPECT_EQ(format_local_time(kAt, "Not/AZone"), "2026-11-28 08:45:03 UTC");
  EXPECT_EQ(html_escape("<a href=\"x\">Tom & 'Jerry'</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  EXPECT_EQ(truncate_utf8("abc", 3), "abc");
  EXPECT_EQ(truncate_utf8("abcd", 3), "ab\xE2\x80\xA6");
  EXPECT_EQ(truncate_utf8("\xC3\xA4\xC3\xB6\xC3\xBC\xC3\x9F", 3), "\xC3\xA4\xC3\xB6\xE2\x80\xA6");
}

TEST(AlertMessageTest, EmailNamesEverythingSomeoneOnShiftNeeds) {
  RenderedAlert r = render_alert(compressor_alert(), kPublicUrl);
  EXPECT_EQ(r.email.subject, "[CRITICAL] Compressor power high - Compressor 1 - Pune Plant");
  for (const std::string* part : {&r.email.text, &r.email.html}) {
    for (const char* fact :
         {"Pune Plant", "pune-1", "Compressor 1", "compressor-1", "Compressor power high", "critical",
          "power_kw", "82.4 kW", "75 kW", "2026-11-28 14:15:03 IST", "https://ops.plant.example/alerts/42"}) {
      EXPECT_NE(part->find(fact), std::string::npos) << fact << " missing from:\n" << *part;
    }
  }
  EXPECT_NE(r.email.text.find("Value:     82.4 kW\n"), std::string::npos) << r.email.text;
  EXPECT_NE(r.email.text.find("Threshold: 75 kW\n"), std::string::npos) << r.email.text;
  EXPECT_NE(r.email.html.find("<a href=\"https://ops.plant.example/alerts/42\""), std::string::npos);
}

TEST(AlertMessageTest, HtmlEscapesEveryValue) {
  AlertNotice n = compressor_alert();
  n.rule_name = "<script>alert('x')</script> & \"more\"";
  n.machine_name = "Press <b>2</b>";
  n.factory_name = "A&B Works";
  n.unit = "<kW>";
  RenderedAlert r = render_alert(n, "https://ops.example/\"><script>");
  EXPECT_EQ(r.email.html.find("<script>"), std::string::npos) << r.email.html;
  EXPECT_EQ(r.email.html.find("<b>2</b>"), std::string::npos);
  EXPECT_NE(r.email.html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"),
            std::string::npos);
  EXPECT_NE(r.email.html.find("A&amp;B Works"), std::string::npos);
  EXPECT_NE(r.email.html.find("82.4 &lt;kW&gt;"), std::string::npos);
  EXPECT_NE(r.email.html.find("href=\"https://ops.example/&quot;&gt;&lt;script&gt;/alerts/42\""),
            std::string::npos);
  // Plain text is not HTML: it shows names as they are.
  EXPECT_NE(r.email.text.find("<script>alert('x')</script> & \"more\""), std::string::npos);
}

TEST(AlertMessageTest, SubjectStaysOneLineWhateverTheNames) {
  AlertNotice n = compressor_alert();
  n.rule_name = "Power\r\nBcc: everyone@example.com";
  RenderedAlert r = render_alert(n, kPublicUrl);
  EXPECT_EQ(r.email.subject.find_first_of("\r\n"), std::string::npos);
}

TEST(AlertMessageTest, WhatsAppTextIsShortAndComplete) {
  RenderedAlert r = render_alert(compressor_alert(), kPublicUrl);
  EXPECT_EQ(r.whatsapp,
            "\xF0\x9F\x94\xB4 CRITICAL alert: Compressor power high\n"
            "Compressor 1 \xC2\xB7 Pune Plant\n"
            "power_kw 82.4 kW (threshold 75 kW)\n"
            "2026-11-28 14:15:03 IST\n"
            "https://ops.plant.example/alerts/42");
}

TEST(AlertMessageTest, WhatsAppTextFitsTwilioLimitWithHugeNames) {
  AlertNotice n = compressor_alert();
  n.rule_name = std::string(5000, 'r');
  n.machine_name = std::string(5000, 'm');
  n.factory_name = std::string(5000, 'f');
  n.parameter = std::string(5000, 'p');
  RenderedAlert r = render_alert(n, kPublicUrl);
  EXPECT_LE(r.whatsapp.size(), kMaxWhatsAppBody);
  EXPECT_NE(r.whatsapp.find("https://ops.plant.example/alerts/42"), std::string::npos);
}

TEST(AlertMessageTest, ResolvedMessagesSayResolved) {
  AlertNotice n = compressor_alert();
  n.event = AlertEvent::resolved;
  n.value = 61.25;
  n.at_ms = kAt + 20 * 60 * 1000;
  n.resolved_by = "asha.rao@plant.example";
  RenderedAlert r = render_alert(n, kPublicUrl);
  EXPECT_EQ(r.email.subject, "[RESOLVED] Compressor power high - Compressor 1 - Pune Plant");
  EXPECT_NE(r.email.text.find("Alert resolved at Pune Plant"), std::string::npos) << r.email.text;
  EXPECT_NE(r.email.text.find("Value at clearing: 61.25 kW"), std::string::npos) << r.email.text;
  EXPECT_NE(r.email.text.find("2026-11-28 14:35:03 IST"), std::string::npos);
  EXPECT_NE(r.email.text.find("asha.rao@plant.example"), std::string::npos);
  EXPECT_EQ(r.whatsapp.rfind("\xE2\x9C\x85 RESOLVED: Compressor power high\n", 0), 0u) << r.whatsapp;
  EXPECT_EQ(r.whatsapp.find("threshold"), std::string::npos);
}

TEST(AlertMessageTest, EscalationAndNoDataVariants) {
  AlertNotice n = compressor_alert();
  n.event = AlertEvent::escalated;
  EXPECT_EQ(render_alert(n, kPublicUrl).email.subject.rfind("[CRITICAL, escalated] ", 0), 0u);
  n.event = AlertEvent::reminder;
  EXPECT_EQ(render_alert(n, kPublicUrl).email.subject.rfind("[CRITICAL, still open] ", 0), 0u);

  AlertNotice quiet = compressor_alert();
  quiet.severity = "major";
  quiet.parameter.clear();
  quiet.value.reset();
  quiet.threshold.reset();
  quiet.condition = "no data for 10 min";
  RenderedAlert r = render_alert(quiet, kPublicUrl);
  EXPECT_EQ(r.email.text.find("Value"), std::string::npos);
  EXPECT_EQ(r.email.text.find("Threshold"), std::string::npos);
  EXPECT_NE(r.email.text.find("no data for 10 min"), std::string::npos);
  EXPECT_NE(r.whatsapp.find("no data for 10 min"), std::string::npos);
}

TEST(AlertMessageTest, ToEmailCarriesRecipientsAndParts) {
  RenderedAlert r = render_alert(compressor_alert(), kPublicUrl);
  EmailMessage m = to_email(r.email, {"maintenance@plant.example"}, "<alert-42-opened@plant.example>");
  EXPECT_EQ(m.to, std::vector<std::string>{"maintenance@plant.example"});
  EXPECT_EQ(m.subject, r.email.subject);
  EXPECT_EQ(m.text, r.email.text);
  EXPECT_EQ(m.html, r.email.html);
  EXPECT_EQ(m.message_id, "<alert-42-opened@plant.example>");
}

TEST(InvitationMessageTest, LinkRoleFactoryAndExpiry) {
  InvitationNotice n;
  n.factory_name = "Pune <Plant>";
  n.invited_by = "Asha Rao";
  n.role = "operator";
  n.accept_url = invitation_link(kPublicUrl, "tok_en-123");
  n.expires_at_ms = kAt;
  n.timezone = "Asia/Kolkata";
  EXPECT_EQ(n.accept_url, "https://ops.plant.example/accept-invite?token=tok_en-123");
  EXPECT_EQ(invitation_link("https://x.example", "a+b/c="),
            "https://x.example/accept-invite?token=a%2Bb%2Fc%3D");
  RenderedEmail e = render_invitation(n);
  EXPECT_EQ(e.subject, "Invitation to Pune <Plant> on FactoryOps");
  EXPECT_NE(e.text.find("Asha Rao invites you to join Pune <Plant> on FactoryOps as operator."),
            std::string::npos);
  EXPECT_NE(e.text.find(n.accept_url), std::string::npos);
  EXPECT_NE(e.text.find("2026-11-28 14:15:03 IST"), std::string::npos);
  EXPECT_NE(e.html.find("Pune &lt;Plant&gt;"), std::string::npos);
  EXPECT_EQ(e.html.find("<Plant>"), std::string::npos);
  EXPECT_NE(e.html.find("href=\"https://ops.plant.example/accept-invite?token=tok_en-123\""),
            std::string::npos);
}

}  // namespace
}  // namespace factoryops::notify
