// MQTT ingestion end to end: Mosquitto with dynamic security provisioned by `factoryops serve`,
// devices publishing with mosquitto_pub and with Eclipse Paho (Python), and the telemetry role
// storing what they send. Covers every payload form, the broker refusing foreign topics and
// revoked keys, device status from the status topic and the last will, and the ingest log
// surviving a SIGKILL of the telemetry role.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

#include "auth_support.hpp"
#include "harness/services.hpp"
#include "harness/wait.hpp"

namespace factoryops::testing {
namespace {

std::string rfc3339(std::int64_t ms) {
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return text;
}

class MqttIngestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new MosquittoServer();
    stack_ = new IdentityStack("sqlite", "mqtt-ingest", broker_->serve_env(), "api,telemetry");
    std::string alpha_password = stack_->bootstrap("alpha", "owner@alpha.example");
    std::string beta_password = stack_->bootstrap("beta", "owner@beta.example");
    alpha_token_ = stack_->access_token("alpha", "owner@alpha.example", alpha_password);
    beta_token_ = stack_->access_token("beta", "owner@beta.example", beta_password);
    ASSERT_TRUE(eventually([] {
      auto health = object_of(stack_->server().get("/health").body);
      return health.at("dependencies").at("mqtt").as_string() == "ok";
    })) << stack_->server().log();
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
    delete broker_;
    broker_ = nullptr;
  }

  static std::string create_device(const std::string& token, const std::string& id) {
    auto r = stack_->post("/api/v1/devices",
                          json_body({{"device_id", json::value(id)}, {"name", json::value("Press")}}), token);
    EXPECT_EQ(r.status, 201) << r.body;
    std::string key(object_of(r.body).at("api_key").as_string());
    register_secret(key);
    return key;
  }

  static std::string topic(const std::string& factory, const std::string& device,
                           const std::string& kind = "telemetry") {
    return "factories/" + factory + "/devices/" + device + "/" + kind;
  }

  // mosquitto_pub, QoS 1, MQTT 5 (the broker answers a refused publish with a reason code).
  static RunResult pub(const std::string& key, const std::string& to, const std::string& payload,
                       const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"/usr/bin/mosquitto_pub",
                                     "-h",
                                     "127.0.0.1",
                                     "-p",
                                     std::to_string(broker_->port()),
                                     "-u",
                                     key,
                                     "-P",
                                     key,
                                     "-t",
                                     to,
                                     "-m",
                                     payload,
                                     "-q",
                                     "1",
                                     "-V",
                                     "mqttv5",
                                     "-d"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv);
  }

  // The raw points of one metric of a device within [from, to].
  static json::array points(const std::string& token, const std::string& device, const std::string& metric,
                            std::int64_t from, std::int64_t to) {
    auto r = stack_->server().get("/api/v1/devices/" + device + "/telemetry?params=" + metric +
                                      "&interval=raw&max_points=10000&from=" + std::to_string(from) +
                                      "&to=" + std::to_string(to),
                                  bearer(token));
    if (r.status != 200) return {};
    auto body = object_of(r.body);
    const auto& series = body.at("series").as_array();
    if (series.empty()) return {};
    return series.at(0).at("points").as_array();
  }

  // A connected device (Paho), optionally with "offline" as its retained last will.
  static std::unique_ptr<Process> hold(const std::string& key, const std::string& device_id,
                                       bool will = false) {
    ProcessOptions o;
    o.argv = {"/usr/bin/python3", source_dir() + "/tests/tools/paho_hold.py", "127.0.0.1",
              std::to_string(broker_->port()), key};
    if (will) {
      o.argv.push_back(topic("alpha", device_id, "status"));
      o.argv.push_back("offline");
    }
    o.log_file = log_path("paho-hold-" + device_id + ".log");
    auto process = std::make_unique<Process>(o);
    bool up = eventually([&] { return process->log().find("connected") != std::string::npos; });
    EXPECT_TRUE(up) << process->log();
    return process;
  }

  static json::object device(const std::string& token, const std::string& id) {
    return object_of(stack_->server().get("/api/v1/devices/" + id, bearer(token)).body);
  }

  static MosquittoServer* broker_;
  static IdentityStack* stack_;
  static std::string alpha_token_, beta_token_;
};

MosquittoServer* MqttIngestTest::broker_ = nullptr;
IdentityStack* MqttIngestTest::stack_ = nullptr;
std::string MqttIngestTest::alpha_token_, MqttIngestTest::beta_token_;

TEST_F(MqttIngestTest, MosquittoPubReadingsOfEveryFormAreStored) {
  std::string key = create_device(alpha_token_, "mqtt-pub-1");
  const std::int64_t t0 = now_ms() - 60'000;
  // An object with epoch-ms ts, one with RFC 3339 ts, a backlog array, nested objects, and no ts.
  std::vector<std::string> payloads = {
      R"({"ts":)" + std::to_string(t0) + R"(,"power_kw":10.5,"running":true})",
      R"({"ts":")" + rfc3339(t0 + 1000) + R"(","power_kw":11.5})",
      R"([{"ts":)" + std::to_string(t0 + 2000) + R"(,"power_kw":12.5},{"ts":)" + std::to_string(t0 + 3000) +
          R"(,"power_kw":13.5}])",
      R"({"ts":)" + std::to_string(t0 + 4000) + R"(,"power_kw":14.5,"motor":{"temp_c":61.5}})",
      R"({"power_kw":15.5})",
  };
  for (const auto& payload : payloads) {
    auto r = pub(key, topic("alpha", "mqtt-pub-1"), payload);
    ASSERT_EQ(r.status, 0) << r.output;
  }
  ASSERT_TRUE(eventually([&] {
    return points(alpha_token_, "mqtt-pub-1", "power_kw", t0, now_ms() + 1000).size() == 6;
  })) << points(alpha_token_, "mqtt-pub-1", "power_kw", t0, now_ms() + 1000);
  auto stored = points(alpha_token_, "mqtt-pub-1", "power_kw", t0, now_ms() + 1000);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(stored.at(i).at(0).to_number<std::int64_t>(), t0 + i * 1000);
    EXPECT_DOUBLE_EQ(stored.at(i).at(1).to_number<double>(), 10.5 + i);
  }
  EXPECT_DOUBLE_EQ(stored.at(5).at(1).to_number<double>(), 15.5);
  auto nested = points(alpha_token_, "mqtt-pub-1", "motor.temp_c", t0, t0 + 5000);
  ASSERT_EQ(nested.size(), 1u);
  EXPECT_DOUBLE_EQ(nested.at(0).at(1).to_number<double>(), 61.5);
  // Discovery saw the keys.
  EXPECT_TRUE(eventually([&] {
    auto r = stack_->server().get("/api/v1/devices/mqtt-pub-1/parameters", bearer(alpha_token_));
    return r.body.find("motor.temp_c") != std::string::npos && r.body.find("running") != std::string::npos;
  }));
}

TEST_F(MqttIngestTest, PahoClientPublishesEveryFormAndEveryReadingIsStoredOnce) {
  std::string key = create_device(alpha_token_, "paho-1");
  const std::int64_t t0 = now_ms() - 120'000;
  TempDir dir("factoryops-paho");
  auto file = dir.path() / "payloads.txt";
  {
    std::ofstream out(file);
    // 200 numbered readings in every form: epoch-ms ts, RFC 3339 ts, arrays of two, nested objects.
    for (int i = 0; i < 200;) {
      switch (i % 4) {
        case 0:
          out << R"({"ts":)" << t0 + i * 100 << R"(,"seq":)" << i << "}\n";
          i += 1;
          break;
        case 1:
          out << R"({"ts":")" << rfc3339(t0 + i * 100) << R"(","seq":)" << i << "}\n";
          i += 1;
          break;
        case 2:
          out << R"([{"ts":)" << t0 + i * 100 << R"(,"seq":)" << i << R"(},{"ts":)" << t0 + (i + 1) * 100
              << R"(,"seq":)" << i + 1 << "}]\n";
          i += 2;
          break;
        default: break;
      }
    }
    out << R"({"ts":)" << t0 + 30'000 << R"(,"seq":200,"drive":{"rpm":1450,"temp_c":40.5}})"
        << "\n";
  }
  auto r = run({"/usr/bin/python3", source_dir() + "/tests/tools/paho_publish.py", "127.0.0.1",
                std::to_string(broker_->port()), key, topic("alpha", "paho-1"), file.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(eventually([&] {
    return points(alpha_token_, "paho-1", "seq", t0, t0 + 40'000).size() == 201;
  })) << points(alpha_token_, "paho-1", "seq", t0, t0 + 40'000).size();
  auto stored = points(alpha_token_, "paho-1", "seq", t0, t0 + 40'000);
  for (int i = 0; i <= 200; ++i) EXPECT_DOUBLE_EQ(stored.at(i).at(1).to_number<double>(), i);
  auto rpm = points(alpha_token_, "paho-1", "drive.rpm", t0, t0 + 40'000);
  ASSERT_EQ(rpm.size(), 1u);
  EXPECT_DOUBLE_EQ(rpm.at(0).at(1).to_number<double>(), 1450);
}

TEST_F(MqttIngestTest, BrokerRefusesAnotherDevicesOrFactorysTopicAndNothingIsStored) {
  std::string key = create_device(alpha_token_, "acl-1");
  create_device(alpha_token_, "acl-2");
  create_device(beta_token_, "acl-1");
  const std::int64_t t0 = now_ms() - 30'000;
  auto other_device =
      pub(key, topic("alpha", "acl-2"), R"({"ts":)" + std::to_string(t0) + R"(,"power_kw":99})");
  auto other_factory =
      pub(key, topic("beta", "acl-1"), R"({"ts":)" + std::to_string(t0) + R"(,"power_kw":98})");
  EXPECT_NE(other_device.output.find("RC:135"), std::string::npos) << other_device.output;  // not authorised
  EXPECT_NE(other_factory.output.find("RC:135"), std::string::npos) << other_factory.output;
  // A device may not subscribe to anything, its own topics included.
  auto sub = run({"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(broker_->port()), "-u",
                  key, "-P", key, "-t", "factories/#", "-q", "1", "-W", "2"});
  EXPECT_NE(sub.output.find("denied"), std::string::npos) << sub.output;
  // Its own topic works; once that reading is stored, the refused ones would have been too.
  ASSERT_EQ(
      pub(key, topic("alpha", "acl-1"), R"({"ts":)" + std::to_string(t0 + 1) + R"(,"power_kw":1})").status,
      0);
  ASSERT_TRUE(eventually([&] { return points(alpha_token_, "acl-1", "power_kw", t0, t0 + 10).size() == 1; }));
  EXPECT_TRUE(points(alpha_token_, "acl-2", "power_kw", t0 - 1000, t0 + 1000).empty());
  EXPECT_TRUE(points(beta_token_, "acl-1", "power_kw", t0 - 1000, t0 + 1000).empty());
}

TEST_F(MqttIngestTest, RotatedAndDeletedKeysStopWorkingOnTheBroker) {
  std::string key = create_device(alpha_token_, "revoke-1");
  EXPECT_EQ(broker_->connect_return_code("revoke-probe", key, key), 0);
  EXPECT_EQ(broker_->connect_return_code("revoke-probe", key, "wrong-password"), 5);

  auto rotated = stack_->post("/api/v1/devices/revoke-1/rotate-key", "", alpha_token_);
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  std::string new_key(object_of(rotated.body).at("api_key").as_string());
  register_secret(new_key);
  EXPECT_TRUE(eventually([&] { return broker_->connect_return_code("revoke-probe", key, key) == 5; },
                         std::chrono::seconds(5)))
      << "the rotated-away key still connects";
  EXPECT_EQ(broker_->connect_return_code("revoke-probe", new_key, new_key), 0);

  auto disabled = stack_->server().request(
      "PATCH", "/api/v1/devices/revoke-1", R"({"is_enabled":false})",
      {{"Authorization", "Bearer " + alpha_token_}, {"Content-Type", "application/json"}});
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_EQ(broker_->connect_return_code("revoke-probe", new_key, new_key), 5)
      << "a disabled device connects";
  auto enabled = stack_->server().request(
      "PATCH", "/api/v1/devices/revoke-1", R"({"is_enabled":true})",
      {{"Authorization", "Bearer " + alpha_token_}, {"Content-Type", "application/json"}});
  ASSERT_EQ(enabled.status, 200) << enabled.body;
  EXPECT_EQ(broker_->connect_return_code("revoke-probe", new_key, new_key), 0);

  auto removed = stack_->server().request("DELETE", "/api/v1/devices/revoke-1", "",
                                          {{"Authorization", "Bearer " + alpha_token_}});
  ASSERT_EQ(removed.status, 204) << removed.body;
  EXPECT_TRUE(eventually([&] { return broker_->connect_return_code("revoke-probe", new_key, new_key) == 5; },
                         std::chrono::seconds(5)))
      << "a deleted device's key still connects";
}

TEST_F(MqttIngestTest, ConnectedClientOfADeletedDeviceIsDisconnected) {
  std::string key = create_device(alpha_token_, "kick-1");
  auto client = hold(key, "kick-1");
  auto removed = stack_->server().request("DELETE", "/api/v1/devices/kick-1", "",
                                          {{"Authorization", "Bearer " + alpha_token_}});
  ASSERT_EQ(removed.status, 204) << removed.body;
  EXPECT_TRUE(eventually([&] { return !client->running(); }, std::chrono::seconds(5)))
      << "the broker kept a deleted device's connection";
}

TEST_F(MqttIngestTest, StatusTopicAndLastWillSetTheDeviceStatus) {
  std::string key = create_device(alpha_token_, "status-1");
  EXPECT_EQ(device(alpha_token_, "status-1").at("status").as_string(), "unknown");
  ASSERT_EQ(pub(key, topic("alpha", "status-1", "status"), "online", {"-r"}).status, 0);
  EXPECT_TRUE(
      eventually([&] { return device(alpha_token_, "status-1").at("status").as_string() == "online"; }));
  ASSERT_EQ(pub(key, topic("alpha", "status-1", "status"), R"({"status":"offline"})", {"-r"}).status, 0);
  EXPECT_TRUE(
      eventually([&] { return device(alpha_token_, "status-1").at("status").as_string() == "offline"; }));

  // A device that dies without saying goodbye: the broker publishes its will.
  auto client = hold(key, "status-1", true);
  ASSERT_EQ(pub(key, topic("alpha", "status-1", "status"), "online", {"-r"}).status, 0);
  EXPECT_TRUE(
      eventually([&] { return device(alpha_token_, "status-1").at("status").as_string() == "online"; }));
  client->signal(SIGKILL);
  EXPECT_TRUE(eventually([&] {
    return device(alpha_token_, "status-1").at("status").as_string() == "offline";
  })) << "the last will did not mark the device offline";
}

TEST_F(MqttIngestTest, NeitherTheAdminNorTheTelemetryClientMayPublishTelemetry) {
  // Only device keys publish readings: the provisioning admin may only use $CONTROL topics.
  auto r = run({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker_->port()), "-u",
                broker_->admin_username(), "-P", broker_->admin_password(), "-t", topic("alpha", "ghost"),
                "-m", R"({"power_kw":1})", "-q", "1", "-V", "mqttv5", "-d"});
  EXPECT_NE(r.output.find("RC:135"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace factoryops::testing
