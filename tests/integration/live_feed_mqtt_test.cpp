// The live feed fed by MQTT: `factoryops serve --roles=api,telemetry` against Mosquitto, a
// WebSocket client subscribed to a machine, and the machine publishing with mosquitto_pub: its
// status messages and readings arrive live, and never at another factory's client.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "auth_support.hpp"
#include "harness/services.hpp"
#include "harness/websocket_client.hpp"

namespace factoryops::testing {
namespace {

using namespace std::chrono_literals;

std::string create_device(IdentityStack& stack, const std::string& token, const std::string& id) {
  auto r = stack.post("/api/v1/devices",
                      json_body({{"device_id", json::value(id)}, {"name", json::value(id)}}), token);
  EXPECT_EQ(r.status, 201) << r.body;
  std::string key(object_of(r.body).at("api_key").as_string());
  register_secret(key);
  return key;
}

RunResult publish(const MosquittoServer& broker, const std::string& key, const std::string& topic,
                  const std::string& payload) {
  return run({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-u", key,
              "-P", key, "-t", topic, "-m", payload, "-q", "1"});
}

TEST(LiveFeedMqtt, StatusAndReadingsPublishedOverMqttArriveLive) {
  MosquittoServer broker;
  IdentityStack stack("sqlite", "live-feed-mqtt", broker.serve_env(), "api,telemetry");
  const std::string alpha_password = stack.bootstrap("alpha", "owner@alpha.example");
  const std::string beta_password = stack.bootstrap("beta", "owner@beta.example");
  const std::string alpha_token = stack.access_token("alpha", "owner@alpha.example", alpha_password);
  const std::string beta_token = stack.access_token("beta", "owner@beta.example", beta_password);
  const std::string key = create_device(stack, alpha_token, "press-1");
  create_device(stack, beta_token, "press-1");
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (object_of(stack.server().get("/health").body).at("dependencies").at("mqtt") != "ok" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }

  WebSocketClient alpha(stack.server().port(), {.subprotocols = {"factoryops.v1", "bearer." + alpha_token}});
  WebSocketClient beta(stack.server().port(), {.subprotocols = {"factoryops.v1", "bearer." + beta_token}});
  ASSERT_TRUE(alpha.next_of_type("ready"));
  ASSERT_TRUE(beta.next_of_type("ready"));
  alpha.send(R"({"type":"subscribe","devices":["press-1"]})");
  beta.send(R"({"type":"subscribe","devices":"*"})");
  ASSERT_TRUE(alpha.round_trip());
  ASSERT_TRUE(beta.round_trip());

  // The provisioning of the new key on the broker runs in the background: retry until it is in.
  bool published = false;
  for (int i = 0; i < 100 && !published; ++i) {
    published = publish(broker, key, "factories/alpha/devices/press-1/status", "online").status == 0;
    if (!published) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(published);
  auto status = alpha.next_of_type("status", 15s);
  ASSERT_TRUE(status) << stack.server().log();
  EXPECT_EQ(status->at("device_id"), "press-1");
  EXPECT_EQ(status->at("online"), true);
  EXPECT_TRUE(std::string(status->at("last_seen_at").as_string()).ends_with("Z"));

  ASSERT_EQ(publish(broker, key, "factories/alpha/devices/press-1/telemetry", R"({"power_kw":42.25})").status,
            0);
  auto reading = alpha.next_of_type("reading", 15s);
  ASSERT_TRUE(reading);
  EXPECT_EQ(reading->at("device_id"), "press-1");
  EXPECT_EQ(reading->at("values").at("power_kw").to_number<double>(), 42.25);

  ASSERT_EQ(publish(broker, key, "factories/alpha/devices/press-1/status", "offline").status, 0);
  status = alpha.next_of_type("status", 15s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->at("online"), false);

  // Beta, subscribed to every machine of its own factory (one of them also called press-1),
  // got none of it.
  EXPECT_FALSE(beta.next(500ms));
}

}  // namespace
}  // namespace factoryops::testing
