#include "api/system_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/health.hpp"
#include "core/metrics.hpp"
#include "http/router.hpp"

namespace factoryops::api {
namespace {
using namespace std::chrono_literals;

http::Response call(const http::Router& router, std::string target) {
  http::Request request;
  request.method = "GET";
  request.target = std::move(target);
  request.request_id = "rid";
  return router.handle(request);
}

class SystemRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SystemRoutesDeps deps;
    deps.health = &health_;
    deps.metrics = &registry_;
    deps.info.version = "1.2.3";
    deps.info.roles = {"api", "scheduler"};
    deps.info.metadata_backend = "mysql";
    deps.info.started_at = std::chrono::system_clock::now() - 90s;
    register_system_routes(router_, deps);
  }

  HealthService health_{"api", {{"mysql", true, [] { return true; }}}};
  core::metrics::Registry registry_;
  http::Router router_;
};

TEST_F(SystemRoutesTest, HealthRunsOnTheIoThread) {
  auto routes = router_.routes();
  auto it =
      std::find_if(routes.begin(), routes.end(), [](const auto& r) { return r.path_template == "/health"; });
  ASSERT_NE(it, routes.end());
  EXPECT_TRUE(it->options.on_io_thread);
  EXPECT_EQ(call(router_, "/health").body,
            R"({"status":"healthy","service":"api","dependencies":{"mysql":"ok"}})");
}

TEST_F(SystemRoutesTest, MetricsIncludeBuildInfoAndProcessMetrics) {
  auto response = call(router_, "/metrics");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(response.body.find("factoryops_build_info{version=\"1.2.3\"} 1\n"), std::string::npos);
  EXPECT_NE(response.body.find("\nprocess_resident_memory_bytes "), std::string::npos);
}

TEST_F(SystemRoutesTest, OpenApiIsServedAsJson) {
  auto response = call(router_, "/api/v1/openapi.json");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers.get("Content-Type"), "application/json");
  EXPECT_TRUE(boost::json::parse(response.body).at("openapi").as_string().starts_with("3.1"));
}

TEST_F(SystemRoutesTest, SystemInfoDescribesTheProcess) {
  auto response = call(router_, "/api/v1/system/info");
  ASSERT_EQ(response.status, 200);
  auto body = boost::json::parse(response.body).as_object();
  EXPECT_EQ(body.at("name"), "FactoryOps");
  EXPECT_EQ(body.at("version"), "1.2.3");
  EXPECT_EQ(body.at("roles"), boost::json::parse(R"(["api","scheduler"])"));
  EXPECT_EQ(body.at("metadata_backend"), "mysql");
  EXPECT_GE(body.at("uptime_seconds").as_int64(), 89);
  EXPECT_EQ(body.at("started_at").as_string().size(), 20u);  // 2024-05-01T08:30:00Z
}

TEST(SystemInfo, FormatsRfc3339InUtc) {
  auto t = std::chrono::system_clock::from_time_t(1714552200);  // 2024-05-01 08:30:00 UTC
  EXPECT_EQ(format_rfc3339(t), "2024-05-01T08:30:00Z");
  SystemInfo info{"0.1.0", {"api"}, "sqlite", t};
  EXPECT_EQ(system_info_json(info, t + std::chrono::seconds(61)),
            R"({"name":"FactoryOps","version":"0.1.0","roles":["api"],"metadata_backend":"sqlite",)"
            R"("started_at":"2024-05-01T08:30:00Z","uptime_seconds":61})");
}

TEST(SystemRoutes, RequireAHealthService) {
  http::Router router;
  EXPECT_THROW(register_system_routes(router, SystemRoutesDeps{}), std::invalid_argument);
}

}  // namespace
}  // namespace factoryops::api

namespace factoryops::api {
namespace {

TEST(FormatRfc3339, CalendarEdges) {
  using std::chrono::system_clock;
  using namespace std::chrono_literals;
  EXPECT_EQ(format_rfc3339(system_clock::time_point{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(system_clock::time_point{-1s}), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339(system_clock::time_point{1709251199s}), "2024-02-29T23:59:59Z");
  EXPECT_EQ(format_rfc3339(system_clock::time_point{1709251200s + 999ms}), "2024-03-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(system_clock::time_point{4102444800s}), "2100-01-01T00:00:00Z");
}

}  // namespace
}  // namespace factoryops::api
