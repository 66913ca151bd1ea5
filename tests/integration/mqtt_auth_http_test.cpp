// POST /internal/mqtt/authn and /internal/mqtt/authz through the built binary, with the bodies
// EMQX renders from the templates of deploy/emqx/emqx.conf: device keys created, disabled,
// rotated and deleted through the API, the telemetry credential, the topic rules, the shared
// secret, malformed bodies, and the routes' absence when no secret is configured.
#include <gtest/gtest.h>

#include "auth_support.hpp"

namespace factoryops::testing {
namespace {

class MqttAuthHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    secret_ = make_secret(48);
    telemetry_password_ = make_secret(32);
    // Debug logging on: the per-decision lines must not leak keys or passwords either.
    stack_ = new IdentityStack("sqlite", "mqtt-auth",
                               {{"FACTORYOPS_MQTT_AUTH_SECRET", secret_},
                                {"FACTORYOPS_MQTT_USERNAME", "factoryops-telemetry"},
                                {"FACTORYOPS_MQTT_PASSWORD", telemetry_password_},
                                {"FACTORYOPS_LOG_LEVEL", "debug"}});
    std::string alpha_password = stack_->bootstrap("alpha", "owner@alpha.example");
    std::string beta_password = stack_->bootstrap("beta", "owner@beta.example");
    alpha_token_ = stack_->access_token("alpha", "owner@alpha.example", alpha_password);
    beta_token_ = stack_->access_token("beta", "owner@beta.example", beta_password);
    press_key_ = create_device(alpha_token_, "press-1");
    beta_key_ = create_device(beta_token_, "press-1");
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  static std::string create_device(const std::string& token, const std::string& id) {
    auto r = stack_->post("/api/v1/devices",
                          json_body({{"device_id", json::value(id)}, {"name", json::value("Press")}}), token);
    EXPECT_EQ(r.status, 201) << r.body;
    std::string key(object_of(r.body).at("api_key").as_string());
    register_secret(key);
    return key;
  }

  static HttpResponse post(const std::string& path, const std::string& body,
                           const std::string& authorization = "Bearer " + secret_) {
    std::map<std::string, std::string> headers = {{"Content-Type", "application/json"}};
    if (!authorization.empty()) headers["Authorization"] = authorization;
    return stack_->server().request("POST", path, body, headers);
  }

  // What EMQX sends for the authentication template, every placeholder rendered as a string.
  static std::string authn_body(const std::string& username, const std::string& password) {
    return json_body({{"username", json::value(username)},
                      {"password", json::value(password)},
                      {"clientid", json::value("press-client-7")},
                      {"peerhost", json::value("192.0.2.10")}});
  }
  static std::string authz_body(const std::string& username, const std::string& action,
                                const std::string& topic) {
    return json_body({{"username", json::value(username)},
                      {"clientid", json::value("client-1")},
                      {"peerhost", json::value("192.0.2.10")},
                      {"action", json::value(action)},
                      {"topic", json::value(topic)},
                      {"qos", json::value("1")},
                      {"retain", json::value("false")}});
  }

  // The "result" of a 200 answer; the status otherwise.
  static std::string authn(const std::string& username, const std::string& password) {
    auto r = post("/internal/mqtt/authn", authn_body(username, password));
    if (r.status != 200) return "status " + std::to_string(r.status) + ": " + r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
    auto o = object_of(r.body);
    EXPECT_EQ(o.at("is_superuser"), false) << r.body;
    return std::string(o.at("result").as_string());
  }
  static std::string authz(const std::string& username, const std::string& action, const std::string& topic) {
    auto r = post("/internal/mqtt/authz", authz_body(username, action, topic));
    if (r.status != 200) return "status " + std::to_string(r.status) + ": " + r.body;
    auto o = object_of(r.body);
    EXPECT_EQ(o.size(), 1u) << r.body;
    return std::string(o.at("result").as_string());
  }

  static IdentityStack* stack_;
  static std::string secret_, telemetry_password_, alpha_token_, beta_token_, press_key_, beta_key_;
};

IdentityStack* MqttAuthHttpTest::stack_ = nullptr;
std::string MqttAuthHttpTest::secret_, MqttAuthHttpTest::telemetry_password_, MqttAuthHttpTest::alpha_token_,
    MqttAuthHttpTest::beta_token_, MqttAuthHttpTest::press_key_, MqttAuthHttpTest::beta_key_;

TEST_F(MqttAuthHttpTest, DevicesConnectWithTheirKeyAndOnlyWithIt) {
  EXPECT_EQ(authn(press_key_, ""), "allow");
  EXPECT_EQ(authn(press_key_, press_key_), "allow");
  EXPECT_EQ(authn(beta_key_, beta_key_), "allow");

  EXPECT_EQ(authn(press_key_, "not-the-key"), "deny");
  EXPECT_EQ(authn(press_key_, beta_key_), "deny");
  EXPECT_EQ(authn("fo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ""), "deny");
  EXPECT_EQ(authn("anyone", "anything"), "deny");
  EXPECT_EQ(authn("", ""), "deny");
}

TEST_F(MqttAuthHttpTest, TheTelemetryCredentialConnectsAndSubscribesToTheIngestFilters) {
  EXPECT_EQ(authn("factoryops-telemetry", telemetry_password_), "allow");
  EXPECT_EQ(authn("factoryops-telemetry", telemetry_password_ + "x"), "deny");
  EXPECT_EQ(authn("factoryops-telemetry", ""), "deny");

  for (const char* filter :
       {"$share/factoryops-ingest/factories/+/devices/+/telemetry",
        "$share/factoryops-ingest/factories/+/devices/+/status", "factories/+/devices/+/telemetry"}) {
    EXPECT_EQ(authz("factoryops-telemetry", "subscribe", filter), "allow") << filter;
  }
  EXPECT_EQ(authz("factoryops-telemetry", "subscribe", "#"), "deny");
  EXPECT_EQ(authz("factoryops-telemetry", "subscribe", "$share/other/factories/+/devices/+/telemetry"),
            "deny");
  EXPECT_EQ(authz("factoryops-telemetry", "publish", "factories/alpha/devices/press-1/telemetry"), "deny");
}

TEST_F(MqttAuthHttpTest, ADeviceUsesOnlyItsOwnTopics) {
  EXPECT_EQ(authz(press_key_, "publish", "factories/alpha/devices/press-1/telemetry"), "allow");
  EXPECT_EQ(authz(press_key_, "publish", "factories/alpha/devices/press-1/status"), "allow");
  EXPECT_EQ(authz(press_key_, "subscribe", "factories/alpha/devices/press-1/#"), "allow");

  // Another device of its factory, the same device id in another factory, and wildcards.
  EXPECT_EQ(authz(press_key_, "publish", "factories/alpha/devices/press-2/telemetry"), "deny");
  EXPECT_EQ(authz(press_key_, "publish", "factories/beta/devices/press-1/telemetry"), "deny");
  EXPECT_EQ(authz(beta_key_, "publish", "factories/alpha/devices/press-1/telemetry"), "deny");
  EXPECT_EQ(authz(beta_key_, "publish", "factories/beta/devices/press-1/telemetry"), "allow");
  EXPECT_EQ(authz(press_key_, "publish", "factories/alpha/devices/press-1/commands"), "deny");
  for (const char* filter : {"#", "factories/#", "factories/alpha/devices/+/telemetry",
                             "factories/beta/devices/press-1/#", "factories/alpha/devices/press-2/#",
                             "$share/factoryops-ingest/factories/+/devices/+/telemetry", "$SYS/#"}) {
    EXPECT_EQ(authz(press_key_, "subscribe", filter), "deny") << filter;
  }
  // Unknown users have no rights at all.
  EXPECT_EQ(authz("anyone", "subscribe", "factories/alpha/devices/press-1/#"), "deny");
}

TEST_F(MqttAuthHttpTest, DisabledRotatedAndDeletedKeysAreRefusedAtOnce) {
  std::string key = create_device(alpha_token_, "lathe-1");
  const std::string topic = "factories/alpha/devices/lathe-1/telemetry";
  ASSERT_EQ(authn(key, key), "allow");  // now cached
  ASSERT_EQ(authz(key, "publish", topic), "allow");

  auto disabled = stack_->server().request("PATCH", "/api/v1/devices/lathe-1", R"({"is_enabled":false})",
                                           bearer(alpha_token_));
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_EQ(authn(key, key), "deny");
  EXPECT_EQ(authz(key, "publish", topic), "deny");
  ASSERT_EQ(stack_->server()
                .request("PATCH", "/api/v1/devices/lathe-1", R"({"is_enabled":true})", bearer(alpha_token_))
                .status,
            200);
  EXPECT_EQ(authn(key, key), "allow");

  auto rotated =
      stack_->server().request("POST", "/api/v1/devices/lathe-1/rotate-key", "{}", bearer(alpha_token_));
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  std::string new_key(object_of(rotated.body).at("api_key").as_string());
  register_secret(new_key);
  EXPECT_EQ(authn(key, key), "deny");
  EXPECT_EQ(authz(key, "publish", topic), "deny");
  EXPECT_EQ(authn(new_key, new_key), "allow");
  EXPECT_EQ(authz(new_key, "publish", topic), "allow");

  auto deleted = stack_->server().request("DELETE", "/api/v1/devices/lathe-1", "", bearer(alpha_token_));
  ASSERT_TRUE(deleted.status == 200 || deleted.status == 204) << deleted.status << " " << deleted.body;
  EXPECT_EQ(authn(new_key, new_key), "deny");
  EXPECT_EQ(authz(new_key, "publish", topic), "deny");
}

TEST_F(MqttAuthHttpTest, TheSharedSecretIsRequiredAndNeverExplained) {
  const std::string body = authn_body(press_key_, press_key_);
  std::vector<HttpResponse> refused = {
      post("/internal/mqtt/authn", body, ""), post("/internal/mqtt/authn", body, "Bearer " + secret_ + "x"),
      post("/internal/mqtt/authn", body, "Bearer " + press_key_),
      post("/internal/mqtt/authz", authz_body(press_key_, "publish", "t"), "Basic " + secret_)};
  for (const auto& r : refused) {
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(object_of(r.body).at("error").at("message"),
              object_of(refused[0].body).at("error").at("message"));
    EXPECT_EQ(r.body.find(secret_), std::string::npos);
  }
  // Only POST exists.
  EXPECT_EQ(stack_->server().get("/internal/mqtt/authn", {{"Authorization", "Bearer " + secret_}}).status,
            405);
}

TEST_F(MqttAuthHttpTest, MalformedBodiesAnswer400WithTheReason) {
  auto form = post("/internal/mqtt/authn", "username=x&password=y");
  EXPECT_EQ(form.status, 400) << form.body;
  auto message = std::string(object_of(form.body).at("error").at("message").as_string());
  EXPECT_NE(message.find("JSON object"), std::string::npos) << message;
  EXPECT_NE(message.find("\"username\":\"${username}\""), std::string::npos) << message;

  auto missing = post("/internal/mqtt/authz", R"({"username":"u","topic":"t"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(object_of(missing.body).at("error").at("field"), "action");
  auto unknown_action = post("/internal/mqtt/authz", authz_body(press_key_, "all", "t"));
  EXPECT_EQ(unknown_action.status, 400);
  EXPECT_NE(unknown_action.body.find("publish"), std::string::npos) << unknown_action.body;
  auto wrong_type = post("/internal/mqtt/authn", R"({"username":["fo_"],"password":""})");
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(object_of(wrong_type.body).at("error").at("field"), "username");
}

TEST_F(MqttAuthHttpTest, DecisionsAreCountedAndNoKeyOrPasswordIsLogged) {
  EXPECT_EQ(authn(press_key_, "wrong-password-xyz"), "deny");
  auto metrics = stack_->server().get("/metrics").body;
  EXPECT_NE(metrics.find(R"(mqtt_auth_decisions_total{check="authn",result="allow",reason="device"})"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(mqtt_auth_decisions_total{check="authn",result="deny",reason="bad_password"})"),
            std::string::npos);

  const std::string log = stack_->server().log();
  EXPECT_NE(log.find("mqtt authentication"), std::string::npos);  // the debug lines were written
  for (const auto& secret :
       {press_key_, beta_key_, telemetry_password_, secret_, std::string("wrong-password-xyz")})
    EXPECT_EQ(log.find(secret), std::string::npos);
}

TEST(MqttAuthHttpOff, WithoutASecretTheRoutesAreAbsent) {
  ServeOptions options;
  options.label = "mqtt-auth-off";
  FactoryopsServer server(options);
  for (const char* path : {"/internal/mqtt/authn", "/internal/mqtt/authz"}) {
    auto r = server.request("POST", path, R"({"username":"factoryops-telemetry","password":"x"})",
                            {{"Content-Type", "application/json"}, {"Authorization", "Bearer anything"}});
    EXPECT_EQ(r.status, 404) << path << " " << r.body;
    EXPECT_EQ(object_of(r.body).at("error").at("code"), "not_found");
  }
}

}  // namespace
}  // namespace factoryops::testing
