// The telemetry read routes through a Router with a stand-in authenticator and a store
// double: JSON shapes ([t_ms, v] points, raw vs aggregated), CSV export, latest values,
// storage and retention bodies, and the status of each refusal.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>

#include "api/csv.hpp"
#include "api/telemetry_routes.hpp"
#include "core/errors.hpp"
#include "http/router.hpp"
#include "telemetry_query_store_double.hpp"
#include "unit/devices/device_fixture.hpp"

namespace factoryops::api {
namespace {
namespace json = boost::json;
using devices::testing::context_for;

constexpr std::int64_t kFrom = 1'795'737'600'000;  // 2026-11-27T00:00:00Z

class TokenAuthenticator : public auth::Authenticator {
 public:
  std::map<std::string, auth::FactoryContext, std::less<>> callers;
  auth::FactoryContext authenticate(const http::Request& request) const override {
    auto header = request.headers.get("Authorization");
    if (!header || !header->starts_with("Bearer ")) throw core::Unauthorized("missing bearer token");
    auto it = callers.find(header->substr(7));
    if (it == callers.end()) throw core::Unauthorized("invalid token");
    return it->second;
  }
};

class TelemetryRoutesTest : public devices::testing::DeviceDatabaseTest {
 protected:
  void SetUp() override {
    DeviceDatabaseTest::SetUp();
    auth_.callers.emplace("owner", context_for("acme", auth::Role::super_admin));
    auth_.callers.emplace("viewer", context_for("acme", auth::Role::admin));
    auth_.callers.emplace("rival", context_for("rival", auth::Role::super_admin));
    service_->create(owner_, {.device_id = "press-1", .name = "Press"});
    service_->create(owner_, {.device_id = "press-2", .name = "Press 2"});
    telemetry_ = std::make_unique<tsdb::TelemetryQueryService>(*db_, store_, tsdb::RetentionPolicy{183, 730});
    register_telemetry_routes(router_, auth_, *telemetry_);
    store_.fill("acme", "press-1", "power_kw", kFrom, 1000, 3);
    store_.fill("acme", "press-1", "voltage", kFrom + 1000, 1000, 3);
    store_.fill("acme", "press-2", "power_kw", kFrom, 60'000, 120);
  }

  http::Response call(std::string method, std::string target, std::string token = "viewer",
                      std::string body = "", std::string accept = "") {
    http::Request request;
    request.method = std::move(method);
    request.target = std::move(target);
    EXPECT_TRUE(http::parse_target(request.target, request.path, request.query)) << request.target;
    if (!token.empty()) request.headers.set("Authorization", "Bearer " + token);
    if (!accept.empty()) request.headers.set("Accept", accept);
    request.body = std::move(body);
    return router_.handle(request);
  }

  static json::object body_of(const http::Response& r) { return json::parse(r.body).as_object(); }

  std::string range() const {
    return "from=" + std::to_string(kFrom) + "&to=" + std::to_string(kFrom + 2 * tsdb::kHourMs);
  }

  TokenAuthenticator auth_;
  tsdb::testing::StoreDouble store_;
  std::unique_ptr<tsdb::TelemetryQueryService> telemetry_;
  http::Router router_;
};

TEST_F(TelemetryRoutesTest, RawAnswerHoldsPointPairsAndNoAggregate) {
  auto r = call("GET", "/api/v1/devices/press-1/telemetry?params=power_kw,voltage&" + range());
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body.at("device_id"), "press-1");
  EXPECT_EQ(body.at("from"), "2026-11-27T00:00:00.000Z");
  EXPECT_EQ(body.at("to"), "2026-11-27T02:00:00.000Z");
  EXPECT_EQ(body.at("interval"), "raw");
  EXPECT_TRUE(body.at("agg").is_null());
  EXPECT_EQ(body.at("timezone"), "UTC");
  const auto& series = body.at("series").as_array();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].at("param"), "power_kw");
  const auto& first = series[0].at("points").as_array().at(0).as_array();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].to_number<std::int64_t>(), kFrom);
  EXPECT_EQ(first[1].to_number<double>(), 0.0);
  // Compact pairs with plain numbers, as charts and people read them.
  EXPECT_NE(r.body.find(R"("points":[[1795737600000,0],[1795737601000,1],[1795737602000,2]])"),
            std::string::npos)
      << r.body;
}

TEST_F(TelemetryRoutesTest, AggregatedAnswerNamesIntervalAndAgg) {
  auto r = call("GET", "/api/v1/devices/press-2/telemetry?params=power_kw&agg=max&interval=1h&" + range());
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body.at("interval"), "1h");
  EXPECT_EQ(body.at("agg"), "max");
  EXPECT_EQ(body.at("series").at(0).at("points").as_array().size(), 2u);
  auto avg = call("GET", "/api/v1/devices/press-2/telemetry?params=power_kw&interval=1h&" + range());
  EXPECT_NE(avg.body.find("[1795737600000,29.5]"), std::string::npos) << avg.body;
}

TEST_F(TelemetryRoutesTest, CsvByAcceptOrFormatWithAttachmentName) {
  auto r = call("GET", "/api/v1/devices/press-1/telemetry?params=power_kw,voltage&" + range(), "viewer", "",
                "text/csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.headers.get("Content-Type")->starts_with("text/csv"));
  EXPECT_EQ(*r.headers.get("Content-Disposition"), "attachment; filename=\"press-1-telemetry.csv\"");
  EXPECT_EQ(r.body,
            "time,power_kw,voltage\r\n"
            "2026-11-27T00:00:00.000Z,0,\r\n"
            "2026-11-27T00:00:01.000Z,1,0\r\n"
            "2026-11-27T00:00:02.000Z,2,1\r\n"
            "2026-11-27T00:00:03.000Z,,2\r\n");
  auto by_format = call("GET", "/api/v1/devices/press-1/telemetry?format=csv&params=power_kw&" + range());
  EXPECT_EQ(by_format.status, 200);
  EXPECT_TRUE(by_format.body.starts_with("time,power_kw\r\n")) << by_format.body;
  EXPECT_EQ(call("GET", "/api/v1/devices/press-1/telemetry?format=xml").status, 400);
}

TEST_F(TelemetryRoutesTest, MultiDeviceFormAndItsCsv) {
  auto r = call("GET", "/api/v1/telemetry?devices=press-1,press-2&param=power_kw&" + range());
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body.at("param"), "power_kw");
  EXPECT_EQ(body.at("series").at(0).at("device_id"), "press-1");
  EXPECT_EQ(body.at("series").at(1).at("device_id"), "press-2");
  EXPECT_EQ(body.at("series").at(1).at("points").as_array().size(), 120u);

  auto csv = call("GET", "/api/v1/telemetry?devices=press-1,press-2&param=power_kw&format=csv&" + range());
  EXPECT_TRUE(csv.body.starts_with("time,press-1,press-2\r\n")) << csv.body;
  EXPECT_EQ(*csv.headers.get("Content-Disposition"), "attachment; filename=\"power_kw-telemetry.csv\"");

  auto missing = call("GET", "/api/v1/telemetry?devices=press-1,ghost&param=power_kw");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("ghost"), std::string::npos) << missing.body;
  EXPECT_EQ(call("GET", "/api/v1/telemetry?devices=press-1").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/telemetry?param=power_kw").status, 400);
}

TEST_F(TelemetryRoutesTest, LatestValues) {
  auto r = call("GET", "/api/v1/devices/press-1/telemetry/latest?params=voltage");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body.at("device_id"), "press-1");
  const auto& values = body.at("values").as_array();
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].at("param"), "voltage");
  EXPECT_EQ(values[0].at("time"), "2026-11-27T00:00:03.000Z");
  EXPECT_EQ(values[0].at("value").to_number<double>(), 2.0);
  EXPECT_EQ(body_of(call("GET", "/api/v1/devices/press-1/telemetry/latest")).at("values").as_array().size(),
            2u);
}

TEST_F(TelemetryRoutesTest, RefusalsMapToTheirStatus) {
  EXPECT_EQ(call("GET", "/api/v1/devices/press-1/telemetry", "").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/devices/press-1/telemetry", "rival").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/devices/press-1/telemetry/latest", "rival").status, 404);
  auto bad = call("GET", "/api/v1/devices/press-1/telemetry?interval=7m");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("interval"), std::string::npos);
  auto too_many =
      call("GET", "/api/v1/devices/press-2/telemetry?params=power_kw&interval=raw&max_points=10&" + range());
  EXPECT_EQ(too_many.status, 400);
  EXPECT_NE(too_many.body.find("max_points"), std::string::npos) << too_many.body;
  EXPECT_EQ(call("GET", "/api/v1/telemetry/storage", "viewer").status, 403);
  EXPECT_EQ(call("PATCH", "/api/v1/telemetry/retention", "viewer", R"({"raw_days":200})").status, 403);
}

TEST_F(TelemetryRoutesTest, StorageAndRetention) {
  auto r = call("GET", "/api/v1/telemetry/storage", "owner");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body.at("engine"), "double");
  EXPECT_EQ(body.at("bytes").to_number<std::int64_t>(), 4096);
  EXPECT_EQ(body.at("series").to_number<std::int64_t>(), 3);
  EXPECT_EQ(body.at("retention").at("raw_days").to_number<int>(), 183);
  EXPECT_EQ(body.at("retention").at("overridden"), false);

  auto changed =
      call("PATCH", "/api/v1/telemetry/retention", "owner", R"({"raw_days":300,"rollup_days":null})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  auto after = body_of(changed).at("retention").as_object();
  EXPECT_EQ(after.at("raw_days").to_number<int>(), 300);
  EXPECT_EQ(after.at("rollup_days").to_number<int>(), 730);
  EXPECT_EQ(after.at("raw_days_default").to_number<int>(), 183);
  EXPECT_EQ(after.at("overridden"), true);
  EXPECT_EQ(audit_count("acme", "telemetry.retention_changed"), 1);

  for (const char* bad : {R"({"raw_days":100})", R"({"rollup_days":5000})", R"({"raw_days":"200"})",
                          R"({"raw_days":200.5})", R"({"keep":1})", R"({"raw_days":99999999999})", "[]"}) {
    auto refused = call("PATCH", "/api/v1/telemetry/retention", "owner", bad);
    EXPECT_EQ(refused.status, 400) << bad << " -> " << refused.body;
  }
  EXPECT_EQ(audit_count("acme", "telemetry.retention_changed"), 1);
}

TEST(TelemetryCsv, QuotesOnlyWhatNeedsItAndKeepsEveryDigit) {
  EXPECT_EQ(csv_field("power_kw"), "power_kw");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(series_csv({}), "time\r\n");
  std::vector<tsdb::Series> series{{"pf", {{0, 0.912}, {1000, 0.1 + 0.2}}}, {"kwh", {}}};
  EXPECT_EQ(series_csv(series),
            "time,pf,kwh\r\n"
            "1970-01-01T00:00:00.000Z,0.912,\r\n"
            "1970-01-01T00:00:01.000Z,0.30000000000000004,\r\n");
}

}  // namespace
}  // namespace factoryops::api
