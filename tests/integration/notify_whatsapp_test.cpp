// WhatsApp messages through TwilioWhatsAppSender to a local endpoint in Twilio's wire format
// (tests/tools/twilio_mock.py): the request's method, path, basic auth and form fields as
// Twilio's Messages API takes them, and the sender's reading of Twilio's answers.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "harness/notify_servers.hpp"
#include "harness/process.hpp"
#include "notify/alert_message.hpp"
#include "notify/twilio_whatsapp.hpp"

namespace factoryops::testing {
namespace {

namespace json = boost::json;
using notify::SendResult;

constexpr const char* kSender = "+14155238886";
constexpr const char* kShiftLead = "+4915112345678";

notify::TwilioSettings settings_for(const TwilioMock& mock) {
  notify::TwilioSettings s;
  s.api_url = mock.url();
  s.account_sid = mock.account_sid();
  s.auth_token = mock.auth_token();
  s.from = kSender;
  s.timeout = std::chrono::seconds(10);
  return s;
}

std::string str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string base64(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (i + 1 < data.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    if (i + 2 < data.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < data.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

notify::AlertNotice compressor_alert() {
  notify::AlertNotice n;
  n.alert_id = 4711;
  n.factory_id = "pune-1";
  n.factory_name = "Pune Plant";
  n.timezone = "Asia/Kolkata";
  n.machine_id = "compressor-1";
  n.machine_name = "Compressor 1";
  n.rule_name = "Compressor power high";
  n.severity = "critical";
  n.parameter = "power_kw";
  n.value = 82.4;
  n.threshold = 75;
  n.unit = "kW";
  n.at_ms = 1795855503000;
  return n;
}

TEST(NotifyWhatsAppTest, MessageIsPostedInTwilioFormatAndItsSidReturned) {
  TwilioMock twilio;
  notify::TwilioWhatsAppSender sender(settings_for(twilio));
  std::string body = notify::render_alert(compressor_alert(), "https://ops.factoryops.test").whatsapp;
  SendResult result = sender.send({kShiftLead, body});
  ASSERT_TRUE(result.sent) << result.code << ": " << result.detail;
  EXPECT_EQ(result.detail, "queued");
  EXPECT_EQ(result.provider_id.rfind("SM", 0), 0u) << result.provider_id;

  auto requests = twilio.requests();
  ASSERT_EQ(requests.size(), 1u);
  const json::object& r = requests[0];
  EXPECT_EQ(str(r, "method"), "POST");
  EXPECT_EQ(str(r, "path"), "/2010-04-01/Accounts/" + twilio.account_sid() + "/Messages.json");
  const json::object& headers = r.at("headers").as_object();
  EXPECT_EQ(str(headers, "authorization"),
            "Basic " + base64(twilio.account_sid() + ":" + twilio.auth_token()));
  EXPECT_EQ(str(headers, "content-type"), "application/x-www-form-urlencoded");
  const json::object& form = r.at("form").as_object();
  EXPECT_EQ(str(form, "To"), std::string("whatsapp:") + kShiftLead);
  EXPECT_EQ(str(form, "From"), std::string("whatsapp:") + kSender);
  EXPECT_EQ(str(form, "Body"), body) << "the text, emoji and all, arrives unchanged";
  EXPECT_EQ(r.at("form").as_object().size(), 3u);
  for (const auto& [name, count] : r.at("form_counts").as_object()) EXPECT_EQ(count.as_int64(), 1) << name;
  EXPECT_EQ(r.at("status").as_int64(), 201);
  EXPECT_EQ(str(r.at("answer").as_object(), "sid"), result.provider_id);
  EXPECT_NE(body.find("Compressor 1"), std::string::npos);
  EXPECT_NE(body.find("https://ops.factoryops.test/alerts/4711"), std::string::npos);
}

TEST(NotifyWhatsAppTest, InvalidNumberIsRefusedWithTwilioErrorCode) {
  TwilioMock twilio;
  notify::TwilioWhatsAppSender sender(settings_for(twilio));
  SendResult result = sender.send({TwilioMock::kInvalidNumber, "Compressor power high"});
  EXPECT_FALSE(result.sent);
  EXPECT_EQ(result.code, "recipient_rejected");
  EXPECT_FALSE(result.retryable);
  EXPECT_NE(result.detail.find("HTTP 400"), std::string::npos) << result.detail;
  EXPECT_NE(result.detail.find("21211"), std::string::npos) << result.detail;
  EXPECT_NE(result.detail.find("is not a valid phone number"), std::string::npos) << result.detail;
  ASSERT_EQ(twilio.requests().size(), 1u);
  EXPECT_EQ(twilio.requests()[0].at("status").as_int64(), 400);
}

TEST(NotifyWhatsAppTest, WrongAuthTokenIsAnAuthenticationFailure) {
  TwilioMock twilio;
  notify::TwilioSettings s = settings_for(twilio);
  s.auth_token = "not-the-token";
  SendResult result = notify::TwilioWhatsAppSender(s).send({kShiftLead, "hello"});
  EXPECT_FALSE(result.sent);
  EXPECT_EQ(result.code, "authentication");
  EXPECT_FALSE(result.retryable);
  EXPECT_NE(result.detail.find("20003"), std::string::npos) << result.detail;
  EXPECT_EQ(result.detail.find("not-the-token"), std::string::npos);
}

TEST(NotifyWhatsAppTest, RateLimitsAndServerErrorsAreRetryable) {
  TwilioMock twilio;
  notify::TwilioWhatsAppSender sender(settings_for(twilio));
  SendResult busy = sender.send({TwilioMock::kRateLimitedNumber, "hello"});
  EXPECT_EQ(busy.code, "rate_limited");
  EXPECT_TRUE(busy.retryable);
  EXPECT_NE(busy.detail.find("20429"), std::string::npos);
  SendResult broken = sender.send({TwilioMock::kServerErrorNumber, "hello"});
  EXPECT_EQ(broken.code, "server_error");
  EXPECT_TRUE(broken.retryable);
  EXPECT_NE(broken.detail.find("HTTP 500"), std::string::npos);
}

TEST(NotifyWhatsAppTest, SlowAnswerIsARetryableTimeout) {
  TwilioMock twilio;
  notify::TwilioSettings s = settings_for(twilio);
  s.timeout = std::chrono::seconds(1);
  auto started = std::chrono::steady_clock::now();
  SendResult result = notify::TwilioWhatsAppSender(s).send({TwilioMock::kSlowNumber, "hello"});
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
  EXPECT_FALSE(result.sent);
  EXPECT_EQ(result.code, "timeout");
  EXPECT_TRUE(result.retryable);
}

TEST(NotifyWhatsAppTest, TwilioUnreachableIsARetryableConnectFailure) {
  notify::TwilioSettings s;
  s.api_url = "http://127.0.0.1:" + std::to_string(free_port());
  s.account_sid = "AC0123456789abcdef0123456789abcdef";
  s.auth_token = "token";
  s.from = kSender;
  SendResult result = notify::TwilioWhatsAppSender(s).send({kShiftLead, "hello"});
  EXPECT_FALSE(result.sent);
  EXPECT_EQ(result.code, "connect");
  EXPECT_TRUE(result.retryable);
}

}  // namespace
}  // namespace factoryops::testing
