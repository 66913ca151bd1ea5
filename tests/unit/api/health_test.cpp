#include "api/health.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace factoryops::api {
namespace {
using namespace std::chrono_literals;

DependencyProbe probe(std::string name, bool required, std::shared_ptr<std::atomic<bool>> up) {
  return {std::move(name), required, [up] { return up->load(); }};
}

TEST(Health, HealthyWhenEveryDependencyIsUp) {
  auto up = std::make_shared<std::atomic<bool>>(true);
  HealthService health("api",
                       {probe("mysql", true, up), probe("redis", true, up), probe("influxdb", true, up)});
  auto response = health.respond();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(
      response.body,
      R"({"status":"healthy","service":"api","dependencies":{"mysql":"ok","redis":"ok","influxdb":"ok"}})");
  EXPECT_EQ(response.headers.get("Content-Type"), "application/json");
}

TEST(Health, DegradedWhenOnlyAnOptionalDependencyIsDown) {
  auto up = std::make_shared<std::atomic<bool>>(true);
  auto down = std::make_shared<std::atomic<bool>>(false);
  HealthService health("api", {probe("mysql", true, up), probe("redis", false, down)});
  auto response = health.respond();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body,
            R"({"status":"degraded","service":"api","dependencies":{"mysql":"ok","redis":"down"}})");
}

TEST(Health, UnhealthyWhenARequiredDependencyIsDownOrThrows) {
  HealthService health("telemetry", {{"mqtt", true, []() -> bool { throw std::runtime_error("refused"); }},
                                     {"redis", false, [] { return true; }}});
  auto response = health.respond();
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body,
            R"({"status":"unhealthy","service":"telemetry","dependencies":{"mqtt":"down","redis":"ok"}})");
}

TEST(Health, NoDependenciesIsHealthy) {
  HealthService health("api", {});
  EXPECT_EQ(health.respond().body, R"({"status":"healthy","service":"api","dependencies":{}})");
}

TEST(Health, RequestsReadTheCacheAndOneRefresherRunsTheChecks) {
  auto up = std::make_shared<std::atomic<bool>>(true);
  std::atomic<int> calls{0};
  std::atomic<int> running{0};
  std::atomic<int> most_concurrent{0};
  HealthService health("api",
                       {{"mysql", true,
                         [&] {
                           int now = ++running;
                           most_concurrent = std::max(most_concurrent.load(), now);
                           ++calls;
                           std::this_thread::sleep_for(5ms);
                           --running;
                           return up->load();
                         }}},
                       100ms);
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 500; ++i) EXPECT_EQ(health.respond().status, 200);
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(most_concurrent.load(), 1);
  EXPECT_LT(calls.load(), 50);  // 4000 requests, a handful of checks

  // A change is seen within one refresh interval.
  up->store(false);
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (health.respond().status != 503 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(health.respond().status, 503);
}

}  // namespace
}  // namespace factoryops::api
