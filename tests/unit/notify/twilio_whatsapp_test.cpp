#include "notify/twilio_whatsapp.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"

namespace factoryops::notify {
namespace {

constexpr const char* kSid = "AC0123456789abcdef0123456789abcdef";

TEST(WhatsAppAddressTest, AcceptsE164WithOrWithoutPrefix) {
  EXPECT_EQ(whatsapp_address("+4915112345678"), "whatsapp:+4915112345678");
  EXPECT_EQ(whatsapp_address("whatsapp:+14155238886"), "whatsapp:+14155238886");
  for (const char* bad : {"", "+", "4915112345678", "+0915112345678", "+49 151 12345678", "+49151-1234567",
                          "+1234567890123456", "whatsapp:4915112345678", "sms:+4915112345678"}) {
    EXPECT_FALSE(whatsapp_address(bad).has_value()) << bad;
  }
}

TEST(TwilioFormTest, EncodesFieldsAsFormUrlEncoded) {
  EXPECT_EQ(form_encode({{"Body", "Hello world! a+b=c&d \xC3\xA9~"}}),
            "Body=Hello+world%21+a%2Bb%3Dc%26d+%C3%A9~");
  WhatsAppMessage m{"+4915112345678", "Power 82.4 kW\nhttps://ops.example/alerts/42"};
  EXPECT_EQ(twilio_message_form("whatsapp:+14155238886", m),
            "To=whatsapp%3A%2B4915112345678&From=whatsapp%3A%2B14155238886"
            "&Body=Power+82.4+kW%0Ahttps%3A%2F%2Fops.example%2Falerts%2F42");
}

TEST(TwilioFormTest, RefusesBadNumbersAndBodies) {
  auto field = [](const WhatsAppMessage& m) -> std::string {
    try {
      twilio_message_form("whatsapp:+14155238886", m);
    } catch (const core::Invalid& e) {
      return e.field();
    }
    return "(no error)";
  };
  EXPECT_EQ(field({"015112345678", "hi"}), "to");
  EXPECT_EQ(field({"+4915112345678", ""}), "body");
  EXPECT_EQ(field({"+4915112345678", std::string(kMaxWhatsAppBody + 1, 'x')}), "body");
  // The limit counts characters, not bytes.
  std::string euros;
  for (std::size_t i = 0; i < kMaxWhatsAppBody; ++i) euros += "\xE2\x82\xAC";
  EXPECT_EQ(field({"+4915112345678", euros}), "(no error)");
}

// The shape of Twilio's answer to a created message (Messages resource, API 2010-04-01).
constexpr const char* kCreated = R"({
  "account_sid": "AC0123456789abcdef0123456789abcdef",
  "api_version": "2010-04-01",
  "body": "hello",
  "date_created": "Sat, 28 Nov 2026 08:45:03 +0000",
  "date_sent": null,
  "date_updated": "Sat, 28 Nov 2026 08:45:03 +0000",
  "direction": "outbound-api",
  "error_code": null,
  "error_message": null,
  "from": "whatsapp:+14155238886",
  "messaging_service_sid": null,
  "num_media": "0",
  "num_segments": "1",
  "price": null,
  "price_unit": null,
  "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
  "status": "queued",
  "subresource_uris": {"media": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f/Media.json"},
  "to": "whatsapp:+4915112345678",
  "uri": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f.json"
})";

TEST(TwilioResponseTest, CreatedMessageIsSentWithItsSid) {
  SendResult r = interpret_twilio_response(201, kCreated);
  EXPECT_TRUE(r.sent);
  EXPECT_EQ(r.provider_id, "SM1f0e8ae6ade43cb3c0ce4525424e404f");
  EXPECT_EQ(r.detail, "queued");
}

TEST(TwilioResponseTest, InvalidNumberIsAPermanentFailureNamingTheCode) {
  SendResult r = interpret_twilio_response(
      400, R"({"code": 21211, "message": "The 'To' number whatsapp:+15005550001 is not a valid phone number.",
               "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})");
  EXPECT_FALSE(r.sent);
  EXPECT_FALSE(r.retryable);
  EXPECT_EQ(r.code, "recipient_rejected");
  EXPECT_NE(r.detail.find("HTTP 400"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("21211"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("is not a valid phone number"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("https://www.twilio.com/docs/errors/21211"), std::string::npos) << r.detail;
}

TEST(TwilioResponseTest, ClassifiesAuthenticationRateLimitsAndServerErrors) {
  SendResult auth = interpret_twilio_response(
      401,
      R"({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})");
  EXPECT_EQ(auth.code, "authentication");
  EXPECT_FALSE(auth.retryable);
  SendResult busy = interpret_twilio_response(
      429,
      R"({"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429})");
  EXPECT_EQ(busy.code, "rate_limited");
  EXPECT_TRUE(busy.retryable);
  SendResult down = interpret_twilio_response(503, "<html>Service Unavailable</html>");
  EXPECT_EQ(down.code, "server_error");
  EXPECT_TRUE(down.retryable);
  EXPECT_NE(down.detail.find("503"), std::string::npos);
  EXPECT_NE(down.detail.find("Service Unavailable"), std::string::npos);
  SendResult sender = interpret_twilio_response(
      400,
      R"({"code": 63007, "message": "Twilio could not find a Channel with the specified From address", "more_info": "https://www.twilio.com/docs/errors/63007", "status": 400})");
  EXPECT_EQ(sender.code, "provider_error");
  EXPECT_FALSE(sender.retryable);
}

TEST(TwilioResponseTest, SuccessWithoutSidIsNotRetriedToAvoidDuplicates) {
  SendResult r = interpret_twilio_response(201, "{}");
  EXPECT_FALSE(r.sent);
  EXPECT_FALSE(r.retryable);
}

TEST(TwilioSenderTest, BuildsTheMessagesUrlAndValidatesSettings) {
  TwilioSettings s;
  s.api_url = "http://127.0.0.1:9/";
  s.account_sid = kSid;
  s.auth_token = "token";
  s.from = "+14155238886";
  TwilioWhatsAppSender sender(s);
  EXPECT_EQ(sender.messages_url(),
            std::string("http://127.0.0.1:9/2010-04-01/Accounts/") + kSid + "/Messages.json");

  auto field = [](TwilioSettings bad) -> std::string {
    try {
      TwilioWhatsAppSender x(std::move(bad));
    } catch (const core::Invalid& e) {
      return e.field();
    }
    return "(no error)";
  };
  TwilioSettings bad = s;
  bad.account_sid = "SK0123456789abcdef0123456789abcdef";
  EXPECT_EQ(field(bad), "twilio_account_sid");
  bad = s;
  bad.auth_token.clear();
  EXPECT_EQ(field(bad), "twilio_auth_token");
  bad = s;
  bad.from = "4155238886";
  EXPECT_EQ(field(bad), "twilio_whatsapp_from");
  bad = s;
  bad.api_url = "ftp://api.twilio.com";
  EXPECT_EQ(field(bad), "twilio_api_url");
}

TEST(TwilioSenderTest, InvalidMessageFailsWithoutARequest) {
  TwilioSettings s;
  s.api_url = "http://127.0.0.1:9";
  s.account_sid = kSid;
  s.auth_token = "token";
  s.from = "+14155238886";
  TwilioWhatsAppSender sender(s);
  SendResult r = sender.send({"not-a-number", "hello"});
  EXPECT_FALSE(r.sent);
  EXPECT_FALSE(r.retryable);
  EXPECT_EQ(r.code, "invalid_message");
  EXPECT_NE(r.detail.find("to"), std::string::npos);
}

}  // namespace
}  // namespace factoryops::notify
