// factoryops serving on InfluxDB (FACTORYOPS_TSDB_URL=influxdb://…): readings posted over HTTP
// land in InfluxDB and are queried back; while InfluxDB is down ingest keeps answering 202,
// /health says degraded (not unhealthy), and after InfluxDB returns every point is there once.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "auth_support.hpp"
#include "harness/services.hpp"

namespace factoryops::testing {
namespace {

using namespace std::chrono_literals;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(TelemetryOnInfluxDb, IngestSurvivesAnInfluxOutageAndHealthSaysDegraded) {
  InfluxServer influx("fo_serve");
  IdentityStack stack("sqlite", "influx-serve", {{"FACTORYOPS_TSDB_URL", influx.url()}});
  std::string password = stack.bootstrap("plant", "owner@plant.example");
  std::string token = stack.access_token("plant", "owner@plant.example", password);
  auto created = stack.post(
      "/api/v1/devices", json_body({{"device_id", json::value("m1")}, {"name", json::value("M1")}}), token);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string key(object_of(created.body).at("api_key").as_string());
  register_secret(key);

  auto ingest = [&](std::int64_t ts, int value) {
    return stack.server().request(
        "POST", "/api/v1/ingest",
        "{\"ts\":" + std::to_string(ts) + ",\"power_kw\":" + std::to_string(value) + "}",
        {{"Authorization", "Device " + key}, {"Content-Type", "application/json"}});
  };
  const std::int64_t t0 = (now_ms() / 1000 - 600) * 1000;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(ingest(t0 + i * 1000, i).status, 202);

  auto health = stack.server().get("/health");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(object_of(health.body).at("status").as_string(), "healthy") << health.body;

  influx.stop();
  for (int i = 5; i < 10; ++i) {
    auto r = ingest(t0 + i * 1000, i);
    ASSERT_EQ(r.status, 202) << r.body;
  }
  // The dependency check is refreshed in the background: give it a few cycles.
  for (int attempt = 0; attempt < 100; ++attempt) {
    health = stack.server().get("/health");
    if (object_of(health.body).at("status").as_string() != "healthy") break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(object_of(health.body).at("status").as_string(), "degraded") << health.body;

  influx.start();
  std::string query = "/api/v1/devices/m1/telemetry?params=power_kw&interval=raw&from=" + std::to_string(t0) +
                      "&to=" + std::to_string(t0 + 60'000);
  json::array points;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto r = stack.server().get(query, bearer(token));
    if (r.status == 200) {
      points = object_of(r.body).at("series").as_array().at(0).as_object().at("points").as_array();
      if (points.size() >= 10) break;
    }
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(points.size(), 10u);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i].as_array();
    EXPECT_EQ(p.at(0).to_number<std::int64_t>(), t0 + static_cast<std::int64_t>(i) * 1000);
    EXPECT_EQ(p.at(1).to_number<double>(), static_cast<double>(i));
  }
  for (int attempt = 0; attempt < 50; ++attempt) {
    health = stack.server().get("/health");
    if (object_of(health.body).at("status").as_string() == "healthy") break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(object_of(health.body).at("status").as_string(), "healthy") << health.body;
}

}  // namespace
}  // namespace factoryops::testing
