// Two rule-engine replicas on a real Redis (Streams consumer group) and MariaDB, fed the same
// readings again and again so that both evaluate them and both see the rule fire: exactly one
// alert opens, and one set of notifications goes out.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "auth_support.hpp"
#include "harness/services.hpp"
#include "harness/wait.hpp"

namespace factoryops::testing {
namespace {

double rule_evaluations(const FactoryopsServer& server) {
  auto metrics = server.get("/metrics").body;
  const std::string name = "rule_evaluations_total ";
  auto at = metrics.find("\n" + name);
  if (at == std::string::npos) return 0;
  return std::stod(metrics.substr(at + 1 + name.size()));
}

TEST(AlertsReplicas, TwoRuleEnginesOnRedisOpenOneAlert) {
  RedisServer redis;
  std::map<std::string, std::string> env = {{"FACTORYOPS_REDIS_URL", redis.url()}};
  // The API with one rule engine, and a second rule engine on the same database and queue.
  IdentityStack stack("mariadb", "alerts-replicas", env, "api,rule-engine");
  env["FACTORYOPS_DATABASE_URL"] = stack.database_url();
  ServeOptions second;
  second.label = "rule-engine-replica";
  second.roles = "rule-engine";
  second.env = env;
  FactoryopsServer replica(second);

  std::string password = stack.bootstrap("alpha", "owner@alpha.example");
  std::string token = stack.access_token("alpha", "owner@alpha.example", password);
  auto device = stack.post(
      "/api/v1/devices",
      json_body({{"device_id", json::value("comp-1")}, {"name", json::value("Compressor")}}), token);
  ASSERT_EQ(device.status, 201) << device.body;
  std::string key(object_of(device.body).at("api_key").as_string());
  register_secret(key);
  auto rule = stack.post("/api/v1/rules", R"({
    "name": "Compressor power high", "severity": "major",
    "conditions": [{"kind": "threshold", "parameter": "power_kw", "op": ">", "threshold": 75}],
    "duration_seconds": 0, "channels": {"in_app": true}})",
                         token);
  ASSERT_EQ(rule.status, 201) << rule.body;

  // The same upload again and again: each one is a job, and the consumer group hands the jobs
  // to both replicas; each replica's evaluator fires on its first one.
  const std::int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() -
                          60'000;
  const std::string readings = json::serialize(json::array{json::object{{"ts", t0}, {"power_kw", 90}}});
  bool both = false;
  for (int round = 0; round < 60 && !both; ++round) {
    auto r =
        stack.server().request("POST", "/api/v1/ingest", readings,
                               {{"Authorization", "Device " + key}, {"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 202) << r.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    both = rule_evaluations(stack.server()) > 0 && rule_evaluations(replica) > 0;
  }
  ASSERT_TRUE(both) << "the jobs did not reach both replicas";
  std::this_thread::sleep_for(std::chrono::seconds(1));

  auto alerts = stack.server().get("/api/v1/alerts?device_id=comp-1", bearer(token));
  ASSERT_EQ(alerts.status, 200) << alerts.body;
  auto body = object_of(alerts.body);
  EXPECT_EQ(body.at("total").as_int64(), 1) << alerts.body;
  const auto id = body.at("items").at(0).at("id").to_number<std::int64_t>();
  auto detail = stack.server().get("/api/v1/alerts/" + std::to_string(id), bearer(token));
  EXPECT_EQ(object_of(detail.body).at("notifications").as_array().size(), 1u)
      << "the in-app notice is logged once: " << detail.body;
}

}  // namespace
}  // namespace factoryops::testing
