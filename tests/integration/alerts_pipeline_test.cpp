// From readings to people, through the built binary: `serve --roles=api,rule-engine,notifications`
// on the SQL job queue, a rule created over HTTP, readings posted to the ingest door. One alert
// opens (not two when the same readings arrive again), an email reaches a real SMTP server with
// STARTTLS and AUTH, a WhatsApp request reaches a Twilio-format endpoint, the attempts are logged
// on the alert, acknowledging works, and the alert clears itself when the power drops back.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "auth_support.hpp"
#include "harness/notify_servers.hpp"
#include "harness/wait.hpp"

namespace factoryops::testing {
namespace {

std::int64_t rule_id_of(const std::string& body) {
  return object_of(body).at("id").to_number<std::int64_t>();
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class AlertsPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    smtp_ = std::make_unique<SmtpSink>(SmtpSink::Mode::starttls);
    twilio_ = std::make_unique<TwilioMock>();
    register_secret(smtp_->password());
    register_secret(twilio_->auth_token());
    std::map<std::string, std::string> env = {
        {"FACTORYOPS_SMTP_URL", smtp_->url()},
        {"FACTORYOPS_SMTP_USERNAME", smtp_->username()},
        {"FACTORYOPS_SMTP_PASSWORD", smtp_->password()},
        {"FACTORYOPS_SMTP_FROM", "FactoryOps Alerts <alerts@factoryops.example>"},
        {"FACTORYOPS_SMTP_CA_FILE", smtp_->ca_file()},
        {"FACTORYOPS_TWILIO_ACCOUNT_SID", twilio_->account_sid()},
        {"FACTORYOPS_TWILIO_AUTH_TOKEN", twilio_->auth_token()},
        {"FACTORYOPS_TWILIO_WHATSAPP_FROM", "+14155238886"},
        {"FACTORYOPS_TWILIO_API_URL", twilio_->url()},
        {"FACTORYOPS_PUBLIC_URL", "https://factoryops.example"},
    };
    stack_ =
        std::make_unique<IdentityStack>("sqlite", "alerts-pipeline", env, "api,rule-engine,notifications");
    std::string password = stack_->bootstrap("alpha", "owner@alpha.example");
    token_ = stack_->access_token("alpha", "owner@alpha.example", password);
    auto device = stack_->post("/api/v1/devices",
                               json_body({{"device_id", json::value("comp-1")},
                                          {"name", json::value("Main compressor")},
                                          {"type", json::value("compressor")}}),
                               token_);
    ASSERT_EQ(device.status, 201) << device.body;
    key_ = std::string(object_of(device.body).at("api_key").as_string());
    register_secret(key_);
  }

  // power_kw readings one every 30 s from `from_ms`, over the HTTP ingest door.
  void post_power(std::int64_t from_ms, const std::vector<double>& values) {
    json::array readings;
    for (std::size_t i = 0; i < values.size(); ++i)
      readings.push_back(
          json::object{{"ts", from_ms + static_cast<std::int64_t>(i) * 30'000}, {"power_kw", values[i]}});
    auto r =
        stack_->server().request("POST", "/api/v1/ingest", json::serialize(readings),
                                 {{"Authorization", "Device " + key_}, {"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 202) << r.body;
  }

  json::array alerts(const std::string& query) {
    auto r = stack_->server().get("/api/v1/alerts" + query, bearer(token_));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return object_of(r.body).at("items").as_array();
  }

  std::unique_ptr<SmtpSink> smtp_;
  std::unique_ptr<TwilioMock> twilio_;
  std::unique_ptr<IdentityStack> stack_;
  std::string token_;
  std::string key_;
};

TEST_F(AlertsPipelineTest, ARuleFiresOnceNotifiesAndClearsItself) {
  auto rule = stack_->post("/api/v1/rules", R"({
    "name": "Compressor power high",
    "severity": "critical",
    "scope": {"kind": "type", "device_type": "compressor"},
    "conditions": [{"kind": "threshold", "parameter": "power_kw", "op": ">", "threshold": 75}],
    "duration_seconds": 60,
    "clear_after_seconds": 60,
    "channels": {"email": ["maintenance@example.com"], "whatsapp": ["+4915112345678"], "in_app": true}
  })",
                           token_);
  ASSERT_EQ(rule.status, 201) << rule.body;

  // Five minutes ago the compressor ran at 80 kW for two minutes: more than the 60 s the rule wants.
  const std::int64_t t0 = wall_ms() - 300'000;
  post_power(t0, {70, 80, 81, 82, 83, 84});
  json::array open;
  ASSERT_TRUE(eventually([&] {
    open = alerts("?status=open");
    return !open.empty();
  })) << "no alert opened";
  ASSERT_EQ(open.size(), 1u);
  const auto& alert = open[0].as_object();
  EXPECT_EQ(alert.at("device_id"), "comp-1");
  EXPECT_EQ(alert.at("rule_name"), "Compressor power high");
  EXPECT_EQ(alert.at("severity"), "critical");
  EXPECT_EQ(alert.at("threshold").to_number<double>(), 75);
  EXPECT_GT(alert.at("value").to_number<double>(), 75);
  const std::int64_t id = alert.at("id").to_number<std::int64_t>();

  // The maintenance team's email, over STARTTLS with AUTH, naming the machine, rule and value.
  ASSERT_TRUE(smtp_->wait_for_messages(1, std::chrono::seconds(30))) << "no email arrived";
  auto mail = smtp_->messages().at(0);
  EXPECT_EQ(json::serialize(mail.at("rcpt_tos")), R"(["maintenance@example.com"])");
  std::string text;  // both parts, decoded
  for (const auto& part : mail.at("parts").as_array()) text += std::string(part.at("content").as_string());
  EXPECT_NE(text.find("Main compressor"), std::string::npos) << text;
  EXPECT_NE(text.find("Compressor power high"), std::string::npos) << text;
  EXPECT_NE(text.find("https://factoryops.example/alerts/" + std::to_string(id)), std::string::npos) << text;
  // The shift lead's WhatsApp, in Twilio's format.
  ASSERT_TRUE(eventually([&] { return !twilio_->requests().empty(); })) << "no WhatsApp request";
  auto whatsapp = twilio_->requests().at(0);
  EXPECT_EQ(whatsapp.at("form").at("To"), "whatsapp:+4915112345678");
  EXPECT_NE(std::string_view(whatsapp.at("form").at("Body").as_string()).find("Main compressor"),
            std::string_view::npos);

  // Every attempt is on the alert's log.
  json::array log;
  ASSERT_TRUE(eventually([&] {
    auto detail = stack_->server().get("/api/v1/alerts/" + std::to_string(id), bearer(token_));
    log = object_of(detail.body).at("notifications").as_array();
    return log.size() >= 3;
  })) << log;
  std::set<std::string> sent;
  for (const auto& entry : log) {
    EXPECT_EQ(entry.at("result"), "sent") << entry;
    sent.insert(std::string(entry.at("channel").as_string()));
  }
  EXPECT_EQ(sent, (std::set<std::string>{"email", "whatsapp", "in_app"}));

  // The same readings again (a replayed upload): still one alert, nobody told twice.
  post_power(t0, {70, 80, 81, 82, 83, 84});
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(alerts("?rule_id=" + std::to_string(rule_id_of(rule.body))).size(), 1u);
  EXPECT_EQ(smtp_->messages().size(), 1u);

  auto acked = stack_->server().request("POST", "/api/v1/alerts/" + std::to_string(id) + "/acknowledge",
                                        R"({"comment":"on my way"})", bearer(token_));
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_EQ(object_of(acked.body).at("status"), "acknowledged");

  // Power back to 60 kW for two minutes: the alert clears itself, and says so by email.
  post_power(t0 + 180'000, {60, 60, 60, 60});
  ASSERT_TRUE(eventually([&] { return alerts("?status=resolved").size() == 1; }))
      << "the alert did not clear";
  auto resolved = alerts("?status=resolved")[0].as_object();
  EXPECT_EQ(resolved.at("id").to_number<std::int64_t>(), id);
  EXPECT_EQ(resolved.at("resolution"), "auto");
  EXPECT_TRUE(alerts("?status=open,acknowledged").empty());
  ASSERT_TRUE(smtp_->wait_for_messages(2, std::chrono::seconds(30))) << "no resolution email";

  auto counts = stack_->server().get("/api/v1/alerts/counts", bearer(token_));
  EXPECT_EQ(object_of(counts.body).at("open").as_int64(), 0) << counts.body;
}

}  // namespace
}  // namespace factoryops::testing
