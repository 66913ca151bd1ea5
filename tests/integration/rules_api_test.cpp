// /api/v1/rules through the built binary: the documented example stored and read back, PATCH
// and DELETE, validation answered 422 naming the field, duplicate names, permissions and
// tenancy, and "test against the last 24 hours" over readings posted to the HTTP ingest door.
#include <gtest/gtest.h>

#include <chrono>

#include "api/identity_json.hpp"
#include "auth_support.hpp"

namespace factoryops::testing {
namespace {

// The example of docs/rules.md, verbatim.
constexpr std::string_view kCompressorRule = R"({
  "name": "Compressor power high",
  "description": "Sustained overload of the main compressors",
  "severity": "critical",
  "enabled": true,
  "scope": {"kind": "type", "device_type": "compressor"},
  "logic": "and",
  "conditions": [
    {"kind": "threshold", "parameter": "power_kw", "op": ">", "threshold": 75, "clear_threshold": 70}
  ],
  "duration_seconds": 300,
  "clear_after_seconds": 60,
  "cooldown_seconds": 900,
  "repeat_seconds": 3600,
  "schedule": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "06:00", "end": "22:00"},
  "channels": {
    "email": ["maintenance@example.com"],
    "whatsapp": ["+4915112345678"],
    "in_app": true
  }
})";

std::string simple_rule(const std::string& name, double threshold = 75) {
  json::object rule{{"name", name}, {"severity", "major"}};
  rule["conditions"] = json::array{
      json::object{{"kind", "threshold"}, {"parameter", "power_kw"}, {"op", ">"}, {"threshold", threshold}}};
  return json::serialize(rule);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t time_of(const json::value& text) {
  auto ms = api::parse_timestamp_ms(text.as_string());
  EXPECT_TRUE(ms.has_value()) << text;
  return ms.value_or(0);
}

class RulesApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new IdentityStack("sqlite", "rules-api");
    std::string alpha_password = stack_->bootstrap("alpha", "owner@alpha.example");
    std::string beta_password = stack_->bootstrap("beta", "owner@beta.example");
    alpha_ = stack_->access_token("alpha", "owner@alpha.example", alpha_password);
    beta_ = stack_->access_token("beta", "owner@beta.example", beta_password);
    limited_ = invite_admin("viewer@alpha.example", R"({"machines":true})");
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  // An admin of alpha with the given permissions; returns its access token.
  static std::string invite_admin(const std::string& email, const std::string& permissions) {
    auto invite = stack_->post(
        "/api/v1/users/invite",
        R"({"email":")" + email + R"(","role":"admin","permissions":)" + permissions + "}", alpha_);
    EXPECT_EQ(invite.status, 201) << invite.body;
    std::string token = invite_token(std::string(object_of(invite.body).at("invite_url").as_string()));
    auto accepted =
        stack_->post("/api/v1/auth/accept-invite", json_body({{"token", json::value(token)},
                                                              {"name", json::value("Shift engineer")},
                                                              {"password", json::value(make_secret(24))}}));
    EXPECT_EQ(accepted.status, 200) << accepted.body;
    return std::string(object_of(accepted.body).at("access_token").as_string());
  }

  static HttpResponse call(const std::string& method, const std::string& path, const std::string& body,
                           const std::string& token) {
    return stack_->server().request(method, path, body, bearer(token));
  }
  static HttpResponse get(const std::string& path, const std::string& token) {
    return stack_->server().get(path, bearer(token));
  }

  static json::object create(const std::string& body, const std::string& token = alpha_) {
    auto r = call("POST", "/api/v1/rules", body, token);
    EXPECT_EQ(r.status, 201) << r.body;
    return object_of(r.body);
  }

  static std::string rule_path(const json::object& rule) {
    return "/api/v1/rules/" + std::to_string(rule.at("id").to_number<std::int64_t>());
  }

  static void expect_invalid(const HttpResponse& r, const std::string& field) {
    EXPECT_EQ(r.status, 422) << r.body;
    auto error = object_of(r.body)["error"].as_object();
    EXPECT_EQ(error["code"], "invalid_argument") << r.body;
    EXPECT_TRUE(std::string_view(error["message"].as_string()).starts_with(field + ": "))
        << "expected the message to start with '" << field << ": ': " << r.body;
  }

  static std::string create_device(const std::string& id, const std::string& type) {
    auto r = stack_->post("/api/v1/devices",
                          json_body({{"device_id", json::value(id)},
                                     {"name", json::value("Machine " + id)},
                                     {"type", json::value(type)}}),
                          alpha_);
    EXPECT_EQ(r.status, 201) << r.body;
    std::string key(object_of(r.body).at("api_key").as_string());
    register_secret(key);
    return key;
  }

  // Posts power_kw readings, one every 30 s from `from_ms`, over the HTTP ingest door.
  static void post_power(const std::string& key, std::int64_t from_ms, const std::vector<double>& values) {
    json::array readings;
    for (std::size_t i = 0; i < values.size(); ++i) {
      readings.push_back(
          json::object{{"ts", from_ms + static_cast<std::int64_t>(i) * 30'000}, {"power_kw", values[i]}});
    }
    auto r =
        stack_->server().request("POST", "/api/v1/ingest", json::serialize(readings),
                                 {{"Authorization", "Device " + key}, {"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(object_of(r.body).at("accepted").as_int64(), static_cast<std::int64_t>(values.size()))
        << r.body;
  }

  static IdentityStack* stack_;
  static std::string alpha_, beta_, limited_;
};

IdentityStack* RulesApiTest::stack_ = nullptr;
std::string RulesApiTest::alpha_, RulesApiTest::beta_, RulesApiTest::limited_;

TEST_F(RulesApiTest, TheDocumentedExampleIsStoredListedChangedAndDeleted) {
  auto created = create(std::string(kCompressorRule));
  ASSERT_TRUE(created.contains("id")) << created;
  EXPECT_GT(created.at("id").to_number<std::int64_t>(), 0);
  EXPECT_EQ(created.at("version").as_int64(), 1);
  EXPECT_EQ(created.at("name"), "Compressor power high");
  EXPECT_EQ(created.at("severity"), "critical");
  EXPECT_EQ(created.at("scope").at("device_type"), "compressor");
  EXPECT_EQ(created.at("conditions").at(0).at("clear_threshold").to_number<double>(), 70);
  EXPECT_EQ(created.at("duration_seconds").as_int64(), 300);
  // The schedule names no zone, so the factory's is stored with it.
  EXPECT_EQ(created.at("schedule").at("timezone"), "Asia/Kolkata");
  EXPECT_EQ(created.at("channels").at("whatsapp").at(0), "+4915112345678");
  EXPECT_EQ(created.at("created_at"), created.at("updated_at"));
  EXPECT_TRUE(api::parse_timestamp_ms(created.at("created_at").as_string()).has_value());

  const std::string path = rule_path(created);
  auto read = get(path, alpha_);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(object_of(read.body), created);

  auto list = get("/api/v1/rules", alpha_);
  ASSERT_EQ(list.status, 200) << list.body;
  auto page = object_of(list.body);
  bool listed = false;
  for (const auto& item : page.at("items").as_array()) listed = listed || item.at("id") == created.at("id");
  EXPECT_TRUE(listed) << list.body;
  EXPECT_GE(page.at("total").as_int64(), 1);

  // An admin who may only look sees the rule too.
  EXPECT_EQ(get(path, limited_).status, 200);

  auto disabled = call("PATCH", path, R"({"enabled": false})", alpha_);
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  auto after = object_of(disabled.body);
  EXPECT_EQ(after.at("enabled"), false);
  EXPECT_EQ(after.at("version").as_int64(), 2);
  EXPECT_EQ(after.at("name"), "Compressor power high");
  EXPECT_EQ(after.at("duration_seconds").as_int64(), 300);
  EXPECT_EQ(object_of(get(path, alpha_).body).at("enabled"), false);

  // The edit form sends back what it read, server fields included, with its changes.
  json::object edited = after;
  edited["description"] = "Overload of compressors 1 to 3";
  auto saved = call("PATCH", path, json::serialize(edited), alpha_);
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(object_of(saved.body).at("description"), "Overload of compressors 1 to 3");
  EXPECT_EQ(object_of(saved.body).at("version").as_int64(), 3);

  auto removed = call("DELETE", path, "", alpha_);
  EXPECT_EQ(removed.status, 204) << removed.body;
  EXPECT_EQ(get(path, alpha_).status, 404);
  EXPECT_EQ(call("DELETE", path, "", alpha_).status, 404);

  auto audit = get("/api/v1/audit-log?limit=100", alpha_);
  ASSERT_EQ(audit.status, 200) << audit.body;
  std::multiset<std::string> actions;
  const auto audit_page = object_of(audit.body);
  for (const auto& entry : audit_page.at("items").as_array()) {
    if (entry.at("resource_type") == "rule" &&
        entry.at("resource_id") == json::value(std::to_string(created.at("id").to_number<std::int64_t>())))
      actions.insert(std::string(entry.at("action").as_string()));
  }
  EXPECT_EQ(actions.count("rule.created"), 1u);
  EXPECT_EQ(actions.count("rule.updated"), 2u);
  EXPECT_EQ(actions.count("rule.deleted"), 1u);
}

TEST_F(RulesApiTest, ListIsOrderedByNameAndPaged) {
  auto zeta = create(simple_rule("Paging zeta"));
  auto alpha = create(simple_rule("Paging alpha"));
  auto mid = create(simple_rule("Paging mid"));
  auto all = object_of(get("/api/v1/rules?limit=500", alpha_).body);
  std::vector<std::string> names;
  for (const auto& item : all.at("items").as_array()) {
    std::string name(item.at("name").as_string());
    if (name.starts_with("Paging ")) names.push_back(name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Paging alpha", "Paging mid", "Paging zeta"}));

  auto first = object_of(get("/api/v1/rules?limit=1&offset=0", alpha_).body);
  auto second = object_of(get("/api/v1/rules?limit=1&offset=1", alpha_).body);
  ASSERT_EQ(first.at("items").as_array().size(), 1u);
  ASSERT_EQ(second.at("items").as_array().size(), 1u);
  EXPECT_NE(first.at("items").at(0).at("id"), second.at("items").at(0).at("id"));
  EXPECT_EQ(first.at("total"), all.at("total"));

  expect_invalid(get("/api/v1/rules?limit=0", alpha_), "limit");
  expect_invalid(get("/api/v1/rules?offset=-1", alpha_), "offset");
  for (const auto* rule : {&zeta, &alpha, &mid})
    EXPECT_EQ(call("DELETE", rule_path(*rule), "", alpha_).status, 204);
}

TEST_F(RulesApiTest, BadFieldsAnswer422NamingTheField) {
  expect_invalid(call("POST", "/api/v1/rules",
                      R"({"name":"Bad","severity":"major","conditions":[)"
                      R"({"kind":"threshold","parameter":"power_kw","op":">","threshold":"high"}]})",
                      alpha_),
                 "conditions[0].threshold");
  expect_invalid(call("POST", "/api/v1/rules",
                      R"({"name":"Bad","severity":"urgent","conditions":[)"
                      R"({"kind":"threshold","parameter":"power_kw","op":">","threshold":1}]})",
                      alpha_),
                 "severity");
  expect_invalid(
      call("POST", "/api/v1/rules",
           R"({"name":"Bad","severity":"major","channels":{"whatsapp":["0151 123"]},"conditions":[)"
           R"({"kind":"threshold","parameter":"power_kw","op":">","threshold":1}]})",
           alpha_),
      "channels.whatsapp[0]");
  expect_invalid(call("POST", "/api/v1/rules", R"({"severity":"major","conditions":[]})", alpha_), "name");
  expect_invalid(call("POST", "/api/v1/rules", "this is not JSON", alpha_), "body");
  // Nothing of the above was stored.
  const auto stored = object_of(get("/api/v1/rules?limit=500", alpha_).body);
  for (const auto& item : stored.at("items").as_array()) EXPECT_NE(item.at("name"), "Bad");

  auto rule = create(simple_rule("Validated on change"));
  expect_invalid(call("PATCH", rule_path(rule), R"({"duration_seconds": -5})", alpha_), "duration_seconds");
  expect_invalid(call("PATCH", rule_path(rule), R"({"colour": "red"})", alpha_), "colour");
  EXPECT_EQ(object_of(get(rule_path(rule), alpha_).body).at("version").as_int64(), 1);

  // The draft test is the form's server-side validation.
  expect_invalid(
      call(
          "POST", "/api/v1/rules/test",
          R"({"name":"Draft","severity":"major","conditions":[)"
          R"({"kind":"window","parameter":"power_kw","function":"median","minutes":15,"op":">","threshold":1}]})",
          alpha_),
      "conditions[0].function");
  EXPECT_EQ(call("DELETE", rule_path(rule), "", alpha_).status, 204);
}

TEST_F(RulesApiTest, ADuplicateNameIsAConflictWithinAFactoryOnly) {
  auto first = create(simple_rule("Chiller inlet hot"));
  auto again = call("POST", "/api/v1/rules", simple_rule("Chiller inlet hot", 10), alpha_);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(object_of(again.body)["error"].at("code"), "conflict");

  auto other = create(simple_rule("Chiller outlet hot"));
  auto renamed = call("PATCH", rule_path(other), R"({"name":"Chiller inlet hot"})", alpha_);
  EXPECT_EQ(renamed.status, 409) << renamed.body;
  EXPECT_EQ(object_of(get(rule_path(other), alpha_).body).at("name"), "Chiller outlet hot");

  // Another factory may use the same name.
  auto beta_rule = create(simple_rule("Chiller inlet hot"), beta_);
  EXPECT_EQ(call("DELETE", rule_path(beta_rule), "", beta_).status, 204);
  EXPECT_EQ(call("DELETE", rule_path(first), "", alpha_).status, 204);
  EXPECT_EQ(call("DELETE", rule_path(other), "", alpha_).status, 204);
}

TEST_F(RulesApiTest, PermissionsAndTenancy) {
  // An admin without the rules permission may read rules but not write them.
  auto refused = call("POST", "/api/v1/rules", simple_rule("Not allowed"), limited_);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(get("/api/v1/rules", limited_).status, 200);

  auto rule = create(simple_rule("Alpha private rule"));
  const std::string path = rule_path(rule);
  EXPECT_EQ(call("PATCH", path, R"({"enabled":false})", limited_).status, 403);
  EXPECT_EQ(call("POST", path + "/test", "", limited_).status, 403);

  // Another factory's token: every route answers 404 and nothing changes.
  EXPECT_EQ(get(path, beta_).status, 404);
  EXPECT_EQ(call("PATCH", path, R"({"enabled":false})", beta_).status, 404);
  EXPECT_EQ(call("POST", path + "/test", "", beta_).status, 404);
  EXPECT_EQ(call("DELETE", path, "", beta_).status, 404);
  auto beta_list = get("/api/v1/rules", beta_);
  ASSERT_EQ(beta_list.status, 200);
  EXPECT_EQ(beta_list.body.find("Alpha private rule"), std::string::npos) << beta_list.body;
  auto still = object_of(get(path, alpha_).body);
  EXPECT_EQ(still.at("enabled"), true);
  EXPECT_EQ(still.at("version").as_int64(), 1);

  EXPECT_EQ(get("/api/v1/rules/not-a-number", alpha_).status, 404);
  EXPECT_EQ(get("/api/v1/rules/999999", alpha_).status, 404);
  EXPECT_EQ(call("DELETE", path, "", alpha_).status, 204);
}

TEST_F(RulesApiTest, TestReplaysTheLastDayOfIngestedReadings) {
  const std::string hot_key = create_device("comp-hot", "compressor");
  const std::string calm_key = create_device("comp-calm", "compressor");
  const std::string pump_key = create_device("pump-hot", "pump");

  // Two hours ago, on a whole minute: 10 minutes above 75 kW, then 10 minutes at 60 kW.
  const std::int64_t t0 = (now_ms() - 2 * 3'600'000) / 60'000 * 60'000;
  std::vector<double> hot(40, 60.0);
  std::fill(hot.begin(), hot.begin() + 20, 80.0);
  post_power(hot_key, t0, hot);
  post_power(calm_key, t0, std::vector<double>(40, 50.0));
  // Over the threshold too, but not a compressor: outside the rule's scope.
  post_power(pump_key, t0, std::vector<double>(40, 95.0));

  json::object rule = object_of(std::string(kCompressorRule));
  rule["name"] = "Compressor overload, any time";
  rule["schedule"] = nullptr;  // the replay must not depend on the hour the test runs at
  auto check = [&](const HttpResponse& r) {
    ASSERT_EQ(r.status, 200) << r.body;
    auto result = object_of(r.body);
    EXPECT_EQ(result.at("fired").as_int64(), 1) << r.body;
    EXPECT_EQ(result.at("readings").as_int64(), 80) << r.body;  // the two compressors' readings
    EXPECT_EQ(result.at("machines").as_int64(), 2) << r.body;
    EXPECT_EQ(result.at("truncated"), false);
    EXPECT_NEAR(static_cast<double>(time_of(result.at("to")) - time_of(result.at("from"))), 24.0 * 3'600'000,
                1000);
    EXPECT_LE(time_of(result.at("from")), t0);
    const auto& episodes = result.at("episodes").as_array();
    ASSERT_EQ(episodes.size(), 1u) << r.body;
    const auto& episode = episodes.at(0);
    EXPECT_EQ(episode.at("device_id"), "comp-hot");
    EXPECT_EQ(time_of(episode.at("started_at")), t0);
    EXPECT_EQ(time_of(episode.at("fired_at")), t0 + 300'000);
    ASSERT_TRUE(episode.at("cleared_at").is_string()) << r.body;
    // Below the clear threshold from minute 10, for clear_after_seconds (60 s).
    EXPECT_GE(time_of(episode.at("cleared_at")), t0 + 600'000 + 60'000);
    EXPECT_LE(time_of(episode.at("cleared_at")), t0 + 600'000 + 90'000);
    EXPECT_EQ(episode.at("value").to_number<double>(), 80);
    EXPECT_EQ(episode.at("threshold").to_number<double>(), 75);
  };

  // The draft, before it is saved; then the saved rule, disabled even (a test ignores that).
  check(call("POST", "/api/v1/rules/test", json::serialize(rule), alpha_));
  rule["enabled"] = false;
  auto saved = create(json::serialize(rule));
  check(call("POST", rule_path(saved) + "/test", "", alpha_));

  // A threshold nothing crossed: no episode; a scope with no machine: nothing replayed.
  auto quiet = call("POST", "/api/v1/rules/test", simple_rule("Never", 500), alpha_);
  ASSERT_EQ(quiet.status, 200) << quiet.body;
  EXPECT_EQ(object_of(quiet.body).at("fired").as_int64(), 0);
  EXPECT_TRUE(object_of(quiet.body).at("episodes").as_array().empty());
  EXPECT_EQ(object_of(quiet.body).at("readings").as_int64(), 120) << quiet.body;  // every machine

  // Beta replays its own (empty) factory, never alpha's readings.
  auto beta_test = call("POST", "/api/v1/rules/test", simple_rule("Beta draft", 1), beta_);
  ASSERT_EQ(beta_test.status, 200) << beta_test.body;
  EXPECT_EQ(object_of(beta_test.body).at("readings").as_int64(), 0);
  EXPECT_EQ(object_of(beta_test.body).at("fired").as_int64(), 0);
  EXPECT_EQ(call("DELETE", rule_path(saved), "", alpha_).status, 204);
}

}  // namespace
}  // namespace factoryops::testing
