#include "core/logging.hpp"

#include <gtest/gtest.h>

namespace factoryops::log {
namespace {

TEST(LoggingTest, RedactsPasswordsInUrls) {
  EXPECT_EQ(redact_url("mysql://fo:s3cret@db:3306/fo"), "mysql://fo:***@db:3306/fo");
  EXPECT_EQ(redact_url("redis://:pw@127.0.0.1:6379/0"), "redis://:***@127.0.0.1:6379/0");
  EXPECT_EQ(redact_url("sqlite:///var/fo.db"), "sqlite:///var/fo.db");
  EXPECT_EQ(redact_url("mqtt://user@host:1883"), "mqtt://user@host:1883");
  EXPECT_EQ(redact_url("embedded:"), "embedded:");
}

TEST(LoggingTest, SecretKeysAreRecognised) {
  EXPECT_TRUE(is_secret_key("password"));
  EXPECT_TRUE(is_secret_key("new_password"));
  EXPECT_TRUE(is_secret_key("Authorization"));
  EXPECT_TRUE(is_secret_key("refresh_token"));
  EXPECT_TRUE(is_secret_key("jwt_secret"));
  EXPECT_TRUE(is_secret_key("api_key"));
  EXPECT_FALSE(is_secret_key("device_id"));
  EXPECT_FALSE(is_secret_key("status"));
}

TEST(LoggingTest, LinesAreJsonWithRequestIdAndRedactedSecrets) {
  init("api", Level::debug);
  ::testing::internal::CaptureStderr();
  {
    RequestIdScope scope("req-123");
    info("user \"logged\" in\n", {{"email", "a@b.c"}, {"password", "hunter2"}, {"count", 3}, {"ok", true}});
  }
  warn("after");
  std::string out = ::testing::internal::GetCapturedStderr();
  auto first = out.substr(0, out.find('\n'));
  EXPECT_NE(first.find("\"level\":\"info\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"role\":\"api\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"request_id\":\"req-123\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"msg\":\"user \\\"logged\\\" in\\n\""), std::string::npos) << first;
  EXPECT_NE(
      first.find("\"fields\":{\"email\":\"a@b.c\",\"password\":\"[redacted]\",\"count\":3,\"ok\":true}"),
      std::string::npos)
      << first;
  EXPECT_EQ(out.find("hunter2"), std::string::npos);
  auto second = out.substr(out.find('\n') + 1);
  EXPECT_NE(second.find("\"request_id\":\"\""), std::string::npos) << second;
  EXPECT_NE(second.find("\"level\":\"warning\""), std::string::npos) << second;
}

TEST(LoggingTest, LevelFiltersLines) {
  init("api", Level::warn);
  ::testing::internal::CaptureStderr();
  info("hidden");
  error("shown");
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("shown"), std::string::npos);
  init("api", Level::info);
}

TEST(LoggingTest, ParsesLevels) {
  Level l{};
  EXPECT_TRUE(parse_level("WARNING", l));
  EXPECT_EQ(l, Level::warn);
  EXPECT_TRUE(parse_level("debug", l));
  EXPECT_EQ(l, Level::debug);
  EXPECT_FALSE(parse_level("verbose", l));
}

}  // namespace
}  // namespace factoryops::log
