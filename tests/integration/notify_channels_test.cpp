// The channels come from configuration alone: FACTORYOPS_SMTP_* and FACTORYOPS_TWILIO_* point
// the same code at another mail server or Twilio endpoint, and both deliver.
#include <gtest/gtest.h>

#include "core/config.hpp"
#include "harness/notify_servers.hpp"
#include "notify/alert_message.hpp"
#include "notify/channels.hpp"

namespace factoryops::testing {
namespace {

TEST(NotifyChannelsTest, ConfiguredChannelsReachTheirProviders) {
  SmtpSink smtp;
  TwilioMock twilio;
  core::Config config = core::load_config(
      {
          {"FACTORYOPS_SMTP_URL", smtp.url()},
          {"FACTORYOPS_SMTP_USERNAME", smtp.username()},
          {"FACTORYOPS_SMTP_PASSWORD", smtp.password()},
          {"FACTORYOPS_SMTP_FROM", "FactoryOps <alerts@factoryops.test>"},
          {"FACTORYOPS_SMTP_CA_FILE", smtp.ca_file()},
          {"FACTORYOPS_TWILIO_ACCOUNT_SID", twilio.account_sid()},
          {"FACTORYOPS_TWILIO_AUTH_TOKEN", twilio.auth_token()},
          {"FACTORYOPS_TWILIO_WHATSAPP_FROM", "whatsapp:+14155238886"},
          {"FACTORYOPS_TWILIO_API_URL", twilio.url()},
          {"FACTORYOPS_PUBLIC_URL", "https://ops.factoryops.test"},
      },
      std::nullopt);
  notify::Channels channels = notify::make_channels(config);
  ASSERT_TRUE(channels.email_enabled);
  ASSERT_TRUE(channels.whatsapp_enabled);

  notify::AlertNotice n;
  n.alert_id = 7;
  n.factory_id = "pune-1";
  n.machine_id = "press-2";
  n.rule_name = "Hydraulic pressure low";
  n.severity = "major";
  n.value = 112;
  n.threshold = 120;
  n.unit = "bar";
  n.at_ms = 1795855503000;
  notify::RenderedAlert rendered = notify::render_alert(n, channels.public_url);

  notify::SendResult email =
      notify::send_alert(channels, notify::ChannelKind::email, "maintenance@plant.test", rendered);
  EXPECT_TRUE(email.sent) << email.detail;
  notify::SendResult whatsapp =
      notify::send_alert(channels, notify::ChannelKind::whatsapp, "+4915112345678", rendered);
  EXPECT_TRUE(whatsapp.sent) << whatsapp.detail;

  ASSERT_TRUE(smtp.wait_for_messages(1));
  auto message = smtp.messages().at(0);
  EXPECT_EQ(message.at("rcpt_tos").as_array().at(0).as_string(), "maintenance@plant.test");
  EXPECT_EQ(message.at("headers").as_object().at("Subject").as_string(), rendered.email.subject);
  EXPECT_EQ(message.at("headers").as_object().at("Message-ID").as_string(), email.provider_id);
  EXPECT_NE(message.at("raw").as_string().find("https://ops.factoryops.test/alerts/7"),
            boost::json::string::npos);
  ASSERT_EQ(twilio.requests().size(), 1u);
  EXPECT_EQ(twilio.requests()[0].at("form").as_object().at("Body").as_string(), rendered.whatsapp);
}

}  // namespace
}  // namespace factoryops::testing
