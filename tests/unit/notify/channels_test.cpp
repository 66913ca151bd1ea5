#include "notify/channels.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/config.hpp"
#include "core/metrics.hpp"

namespace factoryops::notify {
namespace {

using core::EnvironmentMap;

constexpr const char* kSid = "AC0123456789abcdef0123456789abcdef";
constexpr const char* kProductionJwt = "0123456789abcdef0123456789abcdef-prod";

EnvironmentMap production(EnvironmentMap env) {
  env["FACTORYOPS_ENV"] = "production";
  env["FACTORYOPS_JWT_SECRET"] = kProductionJwt;
  return env;
}

EnvironmentMap full_email() {
  return {{"FACTORYOPS_SMTP_URL", "smtp://mail.plant.example:587"},
          {"FACTORYOPS_SMTP_USERNAME", "alerts"},
          {"FACTORYOPS_SMTP_PASSWORD", "hunter2-password"},
          {"FACTORYOPS_SMTP_FROM", "FactoryOps <alerts@plant.example>"}};
}

EnvironmentMap full_whatsapp() {
  return {{"FACTORYOPS_TWILIO_ACCOUNT_SID", kSid},
          {"FACTORYOPS_TWILIO_AUTH_TOKEN", "super-secret-value"},
          {"FACTORYOPS_TWILIO_WHATSAPP_FROM", "whatsapp:+14155238886"}};
}

EnvironmentMap merged(EnvironmentMap a, const EnvironmentMap& b) {
  for (const auto& [k, v] : b) a[k] = v;
  return a;
}

std::string failing_key(const EnvironmentMap& env) {
  try {
    core::load_config(env, std::nullopt);
  } catch (const core::ConfigError& e) {
    return e.key();
  }
  return "(no error)";
}

std::string failure_text(const EnvironmentMap& env) {
  try {
    core::load_config(env, std::nullopt);
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ChannelsConfigTest, ChannelsAreOffByDefaultAndSayWhatToSet) {
  core::Config c = core::load_config({}, std::nullopt);
  EXPECT_EQ(c.public_url, "http://localhost:8000");
  EXPECT_EQ(c.smtp_starttls, "required");
  EXPECT_EQ(c.twilio_api_url, "https://api.twilio.com");
  Channels channels = make_channels(c);
  EXPECT_FALSE(channels.email_enabled);
  EXPECT_FALSE(channels.whatsapp_enabled);
  SendResult email = channels.email->send({{"ops@plant.example"}, "s", "t", "", ""});
  EXPECT_FALSE(email.sent);
  EXPECT_FALSE(email.retryable);
  EXPECT_EQ(email.code, "not_configured");
  EXPECT_NE(email.detail.find("FACTORYOPS_SMTP_URL"), std::string::npos);
  SendResult whatsapp = channels.whatsapp->send({"+4915112345678", "hi"});
  EXPECT_EQ(whatsapp.code, "not_configured");
  EXPECT_NE(whatsapp.detail.find("FACTORYOPS_TWILIO_ACCOUNT_SID"), std::string::npos);
}

TEST(ChannelsConfigTest, CompleteConfigurationTurnsBothChannelsOn) {
  core::Config c = core::load_config(merged(full_email(), full_whatsapp()), std::nullopt);
  Channels channels = make_channels(c);
  EXPECT_TRUE(channels.email_enabled);
  EXPECT_TRUE(channels.whatsapp_enabled);
  EXPECT_NE(dynamic_cast<SmtpSender*>(channels.email.get()), nullptr);
  EXPECT_NE(dynamic_cast<TwilioWhatsAppSender*>(channels.whatsapp.get()), nullptr);
  SmtpSettings smtp = smtp_settings(c);
  EXPECT_EQ(smtp.url, "smtp://mail.plant.example:587");
  EXPECT_EQ(smtp.starttls, StartTls::required);
  EXPECT_EQ(smtp.timeout, std::chrono::seconds(30));
  TwilioSettings twilio = twilio_settings(c);
  EXPECT_EQ(twilio.from, "+14155238886");
  EXPECT_EQ(twilio.account_sid, kSid);
  // Secrets never appear in the described configuration.
  for (const auto& [key, value] : core::describe(c)) {
    EXPECT_EQ(value.find("hunter2-password"), std::string::npos) << key;
    EXPECT_EQ(value.find("super-secret-value"), std::string::npos) << key;
  }
}

TEST(ChannelsConfigTest, DevelopmentRunsAHalfConfiguredChannelOff) {
  EnvironmentMap env = full_email();
  env.erase("FACTORYOPS_SMTP_FROM");
  env["FACTORYOPS_TWILIO_ACCOUNT_SID"] = kSid;
  core::Config c = core::load_config(env, std::nullopt);
  Channels channels = make_channels(c);
  EXPECT_FALSE(channels.email_enabled);
  EXPECT_FALSE(channels.whatsapp_enabled);
  SendResult r = channels.email->send({{"ops@plant.example"}, "s", "t", "", ""});
  EXPECT_EQ(r.code, "not_configured");
  EXPECT_NE(r.detail.find("FACTORYOPS_SMTP_FROM"), std::string::npos) << r.detail;
  EXPECT_NE(channels.whatsapp->send({"+4915112345678", "hi"}).detail.find("FACTORYOPS_TWILIO_AUTH_TOKEN"),
            std::string::npos);
}

TEST(ChannelsConfigTest, ProductionRefusesHalfConfiguredChannels) {
  EnvironmentMap base = production({{"FACTORYOPS_PUBLIC_URL", "https://ops.plant.example"}});
  EXPECT_EQ(failing_key(merged(base, merged(full_email(), full_whatsapp()))), "(no error)");

  EnvironmentMap no_from = merged(base, full_email());
  no_from.erase("FACTORYOPS_SMTP_FROM");
  EXPECT_EQ(failing_key(no_from), "FACTORYOPS_SMTP_FROM");
  EXPECT_NE(failure_text(no_from).find("production"), std::string::npos);

  EnvironmentMap no_password = merged(base, full_email());
  no_password.erase("FACTORYOPS_SMTP_PASSWORD");
  EXPECT_EQ(failing_key(no_password), "FACTORYOPS_SMTP_PASSWORD");

  EXPECT_EQ(failing_key(merged(base, {{"FACTORYOPS_SMTP_FROM", "alerts@plant.example"}})),
            "FACTORYOPS_SMTP_URL");

  for (const char* missing :
       {"FACTORYOPS_TWILIO_ACCOUNT_SID", "FACTORYOPS_TWILIO_AUTH_TOKEN", "FACTORYOPS_TWILIO_WHATSAPP_FROM"}) {
    EnvironmentMap env = merged(base, full_whatsapp());
    env.erase(missing);
    EXPECT_EQ(failing_key(env), missing);
  }
}

TEST(ChannelsConfigTest, ProductionRefusesUnprotectedCredentialsAndMissingLinks) {
  EnvironmentMap base = production({{"FACTORYOPS_PUBLIC_URL", "https://ops.plant.example"}});
  EXPECT_EQ(failing_key(merged(merged(base, full_email()), {{"FACTORYOPS_SMTP_TLS_INSECURE", "true"}})),
            "FACTORYOPS_SMTP_TLS_INSECURE");
  EXPECT_EQ(failing_key(merged(merged(base, full_email()), {{"FACTORYOPS_SMTP_STARTTLS", "off"}})),
            "FACTORYOPS_SMTP_STARTTLS");
  EXPECT_EQ(failing_key(merged(merged(base, full_email()), {{"FACTORYOPS_SMTP_STARTTLS", "opportunistic"}})),
            "FACTORYOPS_SMTP_STARTTLS");
  // A relay without AUTH may be reached without TLS.
  EnvironmentMap relay = merged(base, {{"FACTORYOPS_SMTP_URL", "smtp://127.0.0.1:25"},
                                       {"FACTORYOPS_SMTP_FROM", "alerts@plant.example"},
                                       {"FACTORYOPS_SMTP_STARTTLS", "off"}});
  EXPECT_EQ(failing_key(relay), "(no error)");
  // Implicit TLS needs no STARTTLS.
  EXPECT_EQ(
      failing_key(merged(merged(base, full_email()), {{"FACTORYOPS_SMTP_URL", "smtps://mail.plant.example"},
                                                      {"FACTORYOPS_SMTP_STARTTLS", "off"}})),
      "(no error)");
  EXPECT_EQ(failing_key(
                merged(merged(base, full_whatsapp()), {{"FACTORYOPS_TWILIO_API_URL", "http://api.example"}})),
            "FACTORYOPS_TWILIO_API_URL");
  EXPECT_EQ(failing_key(merged(production({}), full_email())), "FACTORYOPS_PUBLIC_URL");
  // Without any channel, production needs no public URL.
  EXPECT_EQ(failing_key(production({})), "(no error)");
  // Development accepts what production refuses, for a local test server.
  EXPECT_EQ(failing_key(merged(full_email(), {{"FACTORYOPS_SMTP_TLS_INSECURE", "true"}})), "(no error)");
}

TEST(ChannelsConfigTest, ValuesAreCheckedWhenLoaded) {
  EXPECT_EQ(failing_key({{"FACTORYOPS_SMTP_URL", "http://mail.example"}}), "FACTORYOPS_SMTP_URL");
  EXPECT_EQ(failing_key({{"FACTORYOPS_SMTP_STARTTLS", "yes"}}), "FACTORYOPS_SMTP_STARTTLS");
  EXPECT_EQ(failing_key({{"FACTORYOPS_SMTP_TLS_INSECURE", "1"}}), "FACTORYOPS_SMTP_TLS_INSECURE");
  EXPECT_EQ(failing_key({{"FACTORYOPS_SMTP_FROM", "alerts"}}), "FACTORYOPS_SMTP_FROM");
  EXPECT_EQ(failing_key({{"FACTORYOPS_TWILIO_ACCOUNT_SID", "SK0123456789abcdef0123456789abcdef"}}),
            "FACTORYOPS_TWILIO_ACCOUNT_SID");
  EXPECT_EQ(failing_key({{"FACTORYOPS_TWILIO_WHATSAPP_FROM", "4155238886"}}),
            "FACTORYOPS_TWILIO_WHATSAPP_FROM");
  EXPECT_EQ(failing_key({{"FACTORYOPS_PUBLIC_URL", "ops.plant.example"}}), "FACTORYOPS_PUBLIC_URL");
  EXPECT_EQ(failing_key({{"FACTORYOPS_SMTP_TIMEOUT_SECONDS", "0"}}), "FACTORYOPS_SMTP_TIMEOUT_SECONDS");
  core::Config c = core::load_config({{"FACTORYOPS_PUBLIC_URL", "https://ops.plant.example/"}}, std::nullopt);
  EXPECT_EQ(c.public_url, "https://ops.plant.example");
}

TEST(ChannelsConfigTest, AnUnusableSenderAddressNamesTheKey) {
  core::Config c =
      core::load_config(merged(full_email(), {{"FACTORYOPS_SMTP_FROM", "Ops <not valid@x>"}}), std::nullopt);
  try {
    make_channels(c);
    FAIL() << "expected a ConfigError";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.key(), "FACTORYOPS_SMTP_FROM");
  }
}

TEST(ChannelsConfigTest, SecretsMayComeFromFiles) {
  auto dir = std::filesystem::temp_directory_path() / "factoryops-notify-secrets";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "smtp") << "file-password\n";
  std::ofstream(dir / "twilio") << "file-token\n";
  EnvironmentMap env = merged(full_email(), full_whatsapp());
  env.erase("FACTORYOPS_SMTP_PASSWORD");
  env.erase("FACTORYOPS_TWILIO_AUTH_TOKEN");
  env["FACTORYOPS_SMTP_PASSWORD_FILE"] = (dir / "smtp").string();
  env["FACTORYOPS_TWILIO_AUTH_TOKEN_FILE"] = (dir / "twilio").string();
  core::Config c = core::load_config(env, std::nullopt);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(c.smtp_password, "file-password");
  EXPECT_EQ(c.twilio_auth_token, "file-token");
}

double counted(std::string_view channel, std::string_view result) {
  return core::metrics::Registry::global()
      .counter("alert_notifications_sent_total",
               "Alert notification attempts, by channel and result (sent, failed)", {"channel", "result"})
      .labels({channel, result})
      .value();
}

TEST(NotificationMetricTest, CountsAttemptsByChannelAndResult) {
  double sent_before = counted("whatsapp", "sent");
  double failed_before = counted("email", "failed");
  count_alert_notification(ChannelKind::whatsapp, SendResult::success("SM1", "queued"));
  count_alert_notification(ChannelKind::email, SendResult::failure("timeout", "slow", true));
  count_alert_notification(ChannelKind::email, SendResult::failure("authentication", "535", false));
  EXPECT_EQ(counted("whatsapp", "sent"), sent_before + 1);
  EXPECT_EQ(counted("email", "failed"), failed_before + 2);
  EXPECT_NE(core::metrics::Registry::global().expose().find(
                "alert_notifications_sent_total{channel=\"email\",result=\"failed\"}"),
            std::string::npos);
}

TEST(NotificationMetricTest, SendAlertCountsEveryAttempt) {
  Channels channels = make_channels(core::load_config({}, std::nullopt));
  AlertNotice n;
  n.alert_id = 1;
  n.rule_name = "r";
  n.severity = "info";
  RenderedAlert alert = render_alert(n, channels.public_url);
  double before = counted("whatsapp", "failed");
  SendResult r = send_alert(channels, ChannelKind::whatsapp, "+4915112345678", alert);
  EXPECT_EQ(r.code, "not_configured");
  EXPECT_EQ(counted("whatsapp", "failed"), before + 1);
}

}  // namespace
}  // namespace factoryops::notify
