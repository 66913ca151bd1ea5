// No-data rules on the scheduler's beat, through the built binary: `serve --roles=api,rule-engine,
// scheduler` on the SQL job queue. A machine whose last reading is older than the rule's window
// gets an alert naming the silence within a few ticks; a fresh reading clears it.
#include <gtest/gtest.h>

#include <chrono>

#include "auth_support.hpp"
#include "harness/wait.hpp"

namespace factoryops::testing {
namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(RulesNoData, TheSchedulersTicksOpenAndTheNextReadingClears) {
  IdentityStack stack("sqlite", "rules-no-data", {}, "api,rule-engine,scheduler");
  const std::string password = stack.bootstrap("alpha", "owner@alpha.example");
  const std::string token = stack.access_token("alpha", "owner@alpha.example", password);
  auto device = stack.post(
      "/api/v1/devices",
      json_body({{"device_id", json::value("meter-1")}, {"name", json::value("Main meter")}}), token);
  ASSERT_EQ(device.status, 201) << device.body;
  const std::string key(object_of(device.body).at("api_key").as_string());
  register_secret(key);
  auto rule = stack.post("/api/v1/rules", R"({
    "name": "Meter silent",
    "severity": "major",
    "scope": {"kind": "devices", "device_ids": ["meter-1"]},
    "conditions": [{"kind": "no_data", "parameter": "energy_kwh", "minutes": 1}],
    "duration_seconds": 0,
    "clear_after_seconds": 0,
    "channels": {"in_app": true}
  })",
                         token);
  ASSERT_EQ(rule.status, 201) << rule.body;

  auto post = [&](std::int64_t ts) {
    auto r = stack.server().request(
        "POST", "/api/v1/ingest", R"([{"ts":)" + std::to_string(ts) + R"(,"energy_kwh":1520.5}])",
        {{"Authorization", "Device " + key}, {"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 202) << r.body;
  };
  auto alerts = [&](const std::string& status) {
    auto r = stack.server().get("/api/v1/alerts?status=" + status, bearer(token));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? object_of(r.body).at("items").as_array() : json::array();
  };

  // The meter last reported three minutes ago: silent for longer than the rule's minute.
  post(wall_ms() - 180'000);
  json::array open;
  ASSERT_TRUE(eventually(
      [&] {
        open = alerts("open");
        return !open.empty();
      },
      std::chrono::seconds(40)))
      << "no alert for the silent meter";
  ASSERT_EQ(open.size(), 1u) << open;
  EXPECT_EQ(open[0].at("device_id"), "meter-1");
  EXPECT_EQ(open[0].at("rule_name"), "Meter silent");
  EXPECT_EQ(open[0].at("message"), "no energy_kwh for 1 min");

  // It reports again: the alert clears itself.
  post(wall_ms());
  ASSERT_TRUE(eventually([&] { return alerts("open").empty(); }, std::chrono::seconds(30)))
      << "the alert did not clear";
  auto resolved = alerts("resolved");
  ASSERT_EQ(resolved.size(), 1u) << resolved;
  EXPECT_EQ(resolved[0].at("id"), open[0].at("id"));
}

}  // namespace
}  // namespace factoryops::testing
