// /internal/mqtt/authn and /authz through a Router: absent without a secret, 401 without the
// right one, 400 for bodies that do not follow the template, EMQX's answer shapes, the counters,
// and answers from memory on the network thread once the key is cached.
#include "api/mqtt_auth_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>

#include "core/metrics.hpp"
#include "devices/api_key.hpp"

namespace factoryops::api {
namespace {
namespace json = boost::json;

constexpr const char* kSecret = "broker-secret-for-the-unit-test";

class MqttAuthRoutesTest : public ::testing::Test {
 protected:
  MqttAuthRoutesTest() {
    owners_.emplace(key_, devices::KeyOwner{core::FactoryId("acme"), core::DeviceId("press-1"), true});
    register_mqtt_auth_routes(router_, {.keys = &keys_,
                                        .secret = kSecret,
                                        .telemetry_username = "factoryops-telemetry",
                                        .telemetry_password = "telemetry-password"});
  }

  static http::Request request(const std::string& path, std::string body,
                               std::optional<std::string> authorization = std::string("Bearer ") + kSecret) {
    http::Request r;
    r.method = "POST";
    r.target = path;
    EXPECT_TRUE(http::parse_target(r.target, r.path, r.query));
    if (authorization) r.headers.set("Authorization", *authorization);
    r.headers.set("Content-Type", "application/json");
    r.body = std::move(body);
    r.request_id = "rid-mqtt";
    return r;
  }

  // As the pool would run it.
  http::Response call(const std::string& path, std::string body,
                      std::optional<std::string> authorization = std::string("Bearer ") + kSecret) {
    auto r = request(path, std::move(body), std::move(authorization));
    return router_.handle(r);
  }

  // As the network thread tries it first: nullopt means "go to the pool".
  std::optional<http::Response> try_in_memory(const std::string& path, std::string body) {
    auto r = request(path, std::move(body));
    auto match = router_.match("POST", path);
    EXPECT_EQ(match.outcome, http::RouteMatch::Outcome::found);
    EXPECT_TRUE(match.options->io_attempt);
    return match.options->io_attempt(r);
  }

  std::string authn_body(std::string_view username, std::string_view password) const {
    return json::serialize(json::object{{"username", username},
                                        {"password", password},
                                        {"clientid", "press-1-client"},
                                        {"peerhost", "10.0.0.7"}});
  }
  std::string authz_body(std::string_view username, std::string_view action, std::string_view topic) const {
    return json::serialize(json::object{{"username", username},
                                        {"clientid", "press-1-client"},
                                        {"peerhost", "10.0.0.7"},
                                        {"action", action},
                                        {"topic", topic}});
  }

  std::string key_ = devices::generate_api_key();
  std::map<std::string, devices::KeyOwner, std::less<>> owners_;
  int lookups_ = 0;
  ingest::DeviceKeyCache keys_{[this](std::string_view key) -> std::optional<devices::KeyOwner> {
    ++lookups_;
    auto it = owners_.find(key);
    if (it == owners_.end()) return std::nullopt;
    return it->second;
  }};
  http::Router router_;
};

double decisions(std::string_view check, std::string_view result, std::string_view reason) {
  return core::metrics::Registry::global()
      .counter("mqtt_auth_decisions_total", "", {"check", "result", "reason"})
      .labels({check, result, reason})
      .value();
}

TEST(MqttAuthRoutes, WithoutASecretTheRoutesDoNotExist) {
  ingest::DeviceKeyCache keys([](std::string_view) { return std::optional<devices::KeyOwner>(); });
  http::Router router;
  register_mqtt_auth_routes(router, {.keys = &keys, .secret = ""});
  EXPECT_TRUE(router.routes().empty());
  EXPECT_EQ(router.match("POST", "/internal/mqtt/authn").outcome, http::RouteMatch::Outcome::not_found);
}

TEST_F(MqttAuthRoutesTest, RegistersTwoBrokerRoutes) {
  std::set<std::string> seen;
  for (const auto& route : router_.routes())
    seen.insert(route.method + " " + route.path_template + " " + route.options.access);
  EXPECT_EQ(seen,
            (std::set<std::string>{"POST /internal/mqtt/authn broker", "POST /internal/mqtt/authz broker"}));
}

TEST_F(MqttAuthRoutesTest, AMissingOrWrongSecretAnswers401AlikeWithoutDetails) {
  const std::string body = authn_body(key_, "");
  std::vector<http::Response> answers = {
      call("/internal/mqtt/authn", body, std::nullopt),
      call("/internal/mqtt/authn", body, "Bearer wrong-secret"),
      call("/internal/mqtt/authn", body, std::string("Bearer ") + kSecret + "x"),
      call("/internal/mqtt/authn", body, std::string("Basic ") + kSecret),
      call("/internal/mqtt/authz", authz_body(key_, "publish", "factories/acme/devices/press-1/telemetry"),
           "Bearer "),
  };
  for (const auto& r : answers) {
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(json::parse(r.body).at("error").at("message"),
              json::parse(answers[0].body).at("error").at("message"));
    EXPECT_EQ(r.body.find(kSecret), std::string::npos);
  }
  // The scheme is case-insensitive, as HTTP says.
  EXPECT_EQ(call("/internal/mqtt/authn", body, std::string("bearer ") + kSecret).status, 200);
  EXPECT_EQ(lookups_, 1);  // only the accepted request looked the key up
}

TEST_F(MqttAuthRoutesTest, BodiesThatDoNotFollowTheTemplateAnswer400) {
  auto not_json = call("/internal/mqtt/authn", "username=x&password=y");
  EXPECT_EQ(not_json.status, 400);
  auto message = std::string(json::parse(not_json.body).at("error").at("message").as_string());
  EXPECT_NE(message.find("${username}"), std::string::npos) << message;

  EXPECT_EQ(call("/internal/mqtt/authn", "[]").status, 400);
  auto no_username = call("/internal/mqtt/authn", R"({"password":"x"})");
  EXPECT_EQ(no_username.status, 400);
  EXPECT_EQ(json::parse(no_username.body).at("error").at("field"), "username");
  EXPECT_EQ(call("/internal/mqtt/authn", R"({"username":42})").status, 400);

  auto bad_action =
      call("/internal/mqtt/authz", authz_body(key_, "all", "factories/acme/devices/press-1/status"));
  EXPECT_EQ(bad_action.status, 400);
  EXPECT_EQ(json::parse(bad_action.body).at("error").at("field"), "action");
  auto no_topic = call("/internal/mqtt/authz", R"({"username":"u","action":"publish"})");
  EXPECT_EQ(no_topic.status, 400);
  EXPECT_EQ(json::parse(no_topic.body).at("error").at("field"), "topic");
}

TEST_F(MqttAuthRoutesTest, AnswersInEmqxFormatAndCountsThem) {
  const double allowed_before = decisions("authn", "allow", "device");
  const double denied_before = decisions("authz", "deny", "topic");

  auto allowed = call("/internal/mqtt/authn", authn_body(key_, key_));
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(allowed.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(allowed.body), json::parse(R"({"result":"allow","is_superuser":false})"));

  auto denied = call("/internal/mqtt/authn", authn_body(key_, "not-the-key"));
  EXPECT_EQ(json::parse(denied.body), json::parse(R"({"result":"deny","is_superuser":false})"));
  // Whatever is refused, the key never comes back.
  EXPECT_EQ(denied.body.find(key_), std::string::npos);

  // EMQX leaves out no field, but a template without the password means "no password".
  auto no_password = call("/internal/mqtt/authn", json::serialize(json::object{{"username", key_}}));
  EXPECT_EQ(json::parse(no_password.body).at("result"), "allow");

  auto own =
      call("/internal/mqtt/authz", authz_body(key_, "publish", "factories/acme/devices/press-1/telemetry"));
  EXPECT_EQ(own.status, 200);
  EXPECT_EQ(json::parse(own.body), json::parse(R"({"result":"allow"})"));
  auto foreign =
      call("/internal/mqtt/authz", authz_body(key_, "publish", "factories/acme/devices/press-2/telemetry"));
  EXPECT_EQ(json::parse(foreign.body), json::parse(R"({"result":"deny"})"));

  EXPECT_EQ(decisions("authn", "allow", "device") - allowed_before, 2.0);
  EXPECT_EQ(decisions("authz", "deny", "topic") - denied_before, 1.0);
}

TEST_F(MqttAuthRoutesTest, AWarmCacheAnswersOnTheNetworkThread) {
  const std::string authn = authn_body(key_, "");
  const std::string authz = authz_body(key_, "publish", "factories/acme/devices/press-1/telemetry");
  // Cold: the network thread hands the request to the pool without touching the database.
  EXPECT_FALSE(try_in_memory("/internal/mqtt/authn", authn).has_value());
  EXPECT_FALSE(try_in_memory("/internal/mqtt/authz", authz).has_value());
  EXPECT_EQ(lookups_, 0);

  EXPECT_EQ(call("/internal/mqtt/authn", authn).status, 200);  // the pool run warms the cache
  EXPECT_EQ(lookups_, 1);
  auto quick_authn = try_in_memory("/internal/mqtt/authn", authn);
  ASSERT_TRUE(quick_authn.has_value());
  EXPECT_EQ(json::parse(quick_authn->body).at("result"), "allow");
  auto quick_authz = try_in_memory("/internal/mqtt/authz", authz);
  ASSERT_TRUE(quick_authz.has_value());
  EXPECT_EQ(json::parse(quick_authz->body).at("result"), "allow");
  EXPECT_EQ(lookups_, 1);

  // The telemetry credential never needs the database.
  auto telemetry =
      try_in_memory("/internal/mqtt/authn", authn_body("factoryops-telemetry", "telemetry-password"));
  ASSERT_TRUE(telemetry.has_value());
  EXPECT_EQ(json::parse(telemetry->body).at("result"), "allow");
}

}  // namespace
}  // namespace factoryops::api
