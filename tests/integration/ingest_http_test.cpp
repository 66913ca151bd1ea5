// POST /api/v1/ingest and GET /api/v1/devices/{device_id}/ingest-errors through the built
// binary: answers of every shape, device authentication (unknown, disabled, rotated keys), the
// size limit, tenancy, discovery of new keys, and the simulator as a client.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "auth_support.hpp"

namespace factoryops::testing {
namespace {

class IngestHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new IdentityStack("sqlite", "ingest-http");
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

  static HttpResponse ingest(const std::string& body, const std::map<std::string, std::string>& headers) {
    auto h = headers;
    h["Content-Type"] = "application/json";
    return stack_->server().request("POST", "/api/v1/ingest", body, h);
  }
  static HttpResponse ingest_as(const std::string& key, const std::string& body) {
    return ingest(body, {{"Authorization", "Device " + key}});
  }

  static json::array ingest_errors(const std::string& token, const std::string& device) {
    auto r = stack_->server().get("/api/v1/devices/" + device + "/ingest-errors", bearer(token));
    EXPECT_EQ(r.status, 200) << r.body;
    auto o = object_of(r.body);
    return o.contains("items") ? o.at("items").as_array() : json::array{};
  }

  static IdentityStack* stack_;
  static std::string alpha_token_, beta_token_, press_key_, beta_key_;
};

IdentityStack* IngestHttpTest::stack_ = nullptr;
std::string IngestHttpTest::alpha_token_, IngestHttpTest::beta_token_, IngestHttpTest::press_key_,
    IngestHttpTest::beta_key_;

TEST_F(IngestHttpTest, AcceptedReadingsAnswer202WithCounts) {
  auto r = ingest_as(press_key_, R"({"power_kw":12.5,"running":true})");
  ASSERT_EQ(r.status, 202) << r.body;
  auto o = object_of(r.body);
  EXPECT_EQ(o.at("accepted").as_int64(), 1);
  EXPECT_EQ(o.at("rejected").as_int64(), 0);
  EXPECT_EQ(o.at("dropped_fields").as_int64(), 0);
  EXPECT_TRUE(o.at("errors").as_array().empty());

  // X-Device-Key works as well; a partly bad batch lists what was refused.
  auto mixed =
      ingest(R"([{"a":1,"status":"ok"},{"ts":"never","a":2},{"a":3}])", {{"X-Device-Key", press_key_}});
  ASSERT_EQ(mixed.status, 202) << mixed.body;
  auto m = object_of(mixed.body);
  EXPECT_EQ(m.at("accepted").as_int64(), 2);
  EXPECT_EQ(m.at("rejected").as_int64(), 1);
  EXPECT_EQ(m.at("dropped_fields").as_int64(), 1);
  const auto& errors = m.at("errors").as_array();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].at("index").as_int64(), 1);
  EXPECT_TRUE(errors[0].at("field").is_null());
  EXPECT_EQ(errors[0].at("reason").as_string(), "bad_timestamp");
  EXPECT_EQ(errors[1].at("index").as_int64(), 0);
  EXPECT_EQ(errors[1].at("field").as_string(), "status");
  EXPECT_EQ(errors[1].at("reason").as_string(), "not_a_number");
}

TEST_F(IngestHttpTest, NothingStoredAnswers400WithTheReason) {
  auto r = ingest_as(press_key_, "{not json");
  EXPECT_EQ(r.status, 400) << r.body;
  auto o = object_of(r.body);
  EXPECT_EQ(o.at("error").at("code").as_string(), "invalid_payload");
  EXPECT_TRUE(std::string(o.at("error").at("message").as_string()).starts_with("invalid_json"));

  auto strings = ingest_as(press_key_, R"({"status":"ok"})");
  EXPECT_EQ(strings.status, 400);
  EXPECT_NE(strings.body.find("no_valid_fields"), std::string::npos) << strings.body;
}

TEST_F(IngestHttpTest, BadKeysAnswer401AlikeAndTheBodyIsNeverUsedToNameADevice) {
  auto missing = ingest(R"({"a":1})", {});
  auto unknown =
      ingest(R"({"a":1})", {{"Authorization", "Device fo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}});
  auto malformed = ingest(R"({"a":1})", {{"X-Device-Key", "guess"}});
  auto bearer_token = ingest(R"({"a":1})", {{"Authorization", "Bearer " + alpha_token_}});
  for (const auto* r : {&missing, &unknown, &malformed, &bearer_token}) {
    EXPECT_EQ(r->status, 401) << r->body;
    EXPECT_EQ(object_of(r->body).at("error").at("message"),
              object_of(missing.body).at("error").at("message"));
  }
}

TEST_F(IngestHttpTest, DisabledAndRotatedKeysStopWorkingAtOnce) {
  std::string key = create_device(alpha_token_, "lathe-1");
  ASSERT_EQ(ingest_as(key, R"({"a":1})").status, 202);
  auto disabled = stack_->server().request("PATCH", "/api/v1/devices/lathe-1", R"({"is_enabled":false})",
                                           bearer(alpha_token_));
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_EQ(ingest_as(key, R"({"a":1})").status, 401);
  stack_->server().request("PATCH", "/api/v1/devices/lathe-1", R"({"is_enabled":true})",
                           bearer(alpha_token_));
  ASSERT_EQ(ingest_as(key, R"({"a":1})").status, 202);

  auto rotated =
      stack_->server().request("POST", "/api/v1/devices/lathe-1/rotate-key", "{}", bearer(alpha_token_));
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  std::string new_key(object_of(rotated.body).at("api_key").as_string());
  register_secret(new_key);
  EXPECT_EQ(ingest_as(key, R"({"a":1})").status, 401);
  EXPECT_EQ(ingest_as(new_key, R"({"a":1})").status, 202);
}

TEST_F(IngestHttpTest, OverTheSizeLimitAnswers413) {
  std::string body = R"({"a":1})";
  body.insert(1, 256 * 1024 + 1 - body.size(), ' ');
  EXPECT_EQ(ingest_as(press_key_, body).status, 413);
  std::string fits = R"({"a":1})";
  fits.insert(1, 256 * 1024 - fits.size(), ' ');
  EXPECT_EQ(ingest_as(press_key_, fits).status, 202);
}

TEST_F(IngestHttpTest, IngestErrorsListTheDevicesOwnRejectionsOnly) {
  std::string key = create_device(alpha_token_, "drill-1");
  ASSERT_EQ(ingest_as(key, R"({"ts":"yesterday","v":1})").status, 400);
  ASSERT_EQ(ingest_as(key, "[]").status, 400);
  // beta's press-1 shares the id of alpha's; its rejection must stay beta's.
  ASSERT_EQ(ingest_as(beta_key_, "not json from beta").status, 400);

  json::array items;
  for (int i = 0; i < 100 && items.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    items = ingest_errors(alpha_token_, "drill-1");
  }
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("reason").as_string(), "empty");
  EXPECT_EQ(items[0].at("payload").as_string(), "[]");
  EXPECT_EQ(items[1].at("reason").as_string(), "bad_timestamp");
  EXPECT_NE(std::string(items[1].at("payload").as_string()).find("yesterday"), std::string::npos);
  EXPECT_TRUE(std::string(items[1].at("received_at").as_string()).ends_with("Z"));

  for (const auto& item : ingest_errors(alpha_token_, "press-1"))
    EXPECT_EQ(std::string(item.at("payload").as_string()).find("beta"), std::string::npos);
  // Another factory's device does not exist for the caller; nor does an unknown one.
  EXPECT_EQ(stack_->server().get("/api/v1/devices/drill-1/ingest-errors", bearer(beta_token_)).status, 404);
  EXPECT_EQ(stack_->server().get("/api/v1/devices/nope/ingest-errors", bearer(alpha_token_)).status, 404);
  EXPECT_EQ(stack_->server().get("/api/v1/devices/drill-1/ingest-errors").status, 401);
}

TEST_F(IngestHttpTest, NewKeysAreDiscoveredAsParameters) {
  ASSERT_EQ(ingest_as(press_key_, R"({"spindle":{"rpm":1450},"door_open":false})").status, 202);
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body = stack_->server().get("/api/v1/devices/press-1/parameters", bearer(alpha_token_)).body;
    if (body.find("spindle.rpm") != std::string::npos && body.find("door_open") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(body.find("spindle.rpm"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("data_type":"bool")"), std::string::npos) << body;
  auto device = object_of(stack_->server().get("/api/v1/devices/press-1", bearer(alpha_token_)).body);
  EXPECT_EQ(device.at("status").as_string(), "online");
  // Beta's machine of the same id learned nothing.
  EXPECT_EQ(
      stack_->server().get("/api/v1/devices/press-1/parameters", bearer(beta_token_)).body.find("spindle"),
      std::string::npos);
}

TEST_F(IngestHttpTest, SimulatorProvisionsMachinesAndPostsReadings) {
  auto r = stack_->cli({"simulate", "--factory", "alpha", "--devices", "2", "--rate", "5", "--batch", "5",
                        "--duration", "2", "--url",
                        "http://127.0.0.1:" + std::to_string(stack_->server().port())});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(", 0 errors"), std::string::npos) << r.output;
  auto sim = stack_->server().get("/api/v1/devices/sim-002", bearer(alpha_token_));
  EXPECT_EQ(sim.status, 200) << sim.body;
  std::string params;
  for (int i = 0; i < 100 && params.find("energy_kwh") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    params = stack_->server().get("/api/v1/devices/sim-001/parameters", bearer(alpha_token_)).body;
  }
  EXPECT_NE(params.find("energy_kwh"), std::string::npos) << params;
  EXPECT_NE(params.find("voltage_l3"), std::string::npos) << params;

  // A second run finds the machines and learns new keys by rotating them.
  auto again = stack_->cli({"simulate", "--factory", "alpha", "--devices", "1", "--rate", "2", "--duration",
                            "1", "--url", "http://127.0.0.1:" + std::to_string(stack_->server().port())});
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find(", 0 errors"), std::string::npos) << again.output;

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"simulate", "--factory", "alpha", "--devices", "0"},
        std::vector<std::string>{"simulate", "--factory", "alpha", "--transport", "carrier-pigeon"},
        std::vector<std::string>{"simulate", "--factory", "no-such-factory"}}) {
    auto refused = stack_->cli(bad);
    EXPECT_EQ(refused.status, 2) << refused.output;
    EXPECT_NE(refused.output.find("--"), std::string::npos) << refused.output;
  }
}

}  // namespace
}  // namespace factoryops::testing
