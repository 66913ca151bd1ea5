// Telemetry queries through the built binary (docs/api-telemetry.md): readings posted to
// POST /api/v1/ingest come back raw, aggregated, latest, across machines and as CSV; day
// buckets follow the factory's zone across a 25-hour DST day; retention settings are
// validated, stored and audited; other factories and under-privileged admins are refused.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "auth_support.hpp"

namespace factoryops::testing {
namespace {

constexpr std::int64_t kSecondMs = 1000;
constexpr std::int64_t kMinuteMs = 60 * kSecondMs;
constexpr std::int64_t kHourMs = 60 * kMinuteMs;
constexpr std::int64_t kDayMs = 24 * kHourMs;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Europe/Berlin leaves summer time on the last Sunday of October at 01:00 UTC: that local day
// has 25 hours. The most recent such Sunday at least two days ago (ingest accepts 400 days back).
std::int64_t last_berlin_fall_back_day_utc_midnight() {
  using namespace std::chrono;
  const auto today = floor<days>(system_clock::now());
  int y = static_cast<int>(year_month_day{today}.year());
  for (;; --y) {
    const sys_days sunday{year{y} / October / Sunday[last]};
    if (sunday + days{2} <= today) return duration_cast<milliseconds>(sunday.time_since_epoch()).count();
  }
}

class TelemetryQueryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = std::make_unique<IdentityStack>("sqlite", "telemetry-query");
    // Plant in Berlin (DST), rival elsewhere.
    auto f = stack_->cli({"admin", "create-factory", "--id", "plant", "--name", "Berlin plant", "--timezone",
                          "Europe/Berlin"});
    ASSERT_EQ(f.status, 0) << f.output;
    owner_ = token_of("plant", "owner@plant.example");
    rival_ = token_of_bootstrapped("rival", "owner@rival.example");
    for (const char* id : {"press-1", "press-2", "oven-1", "meter-1", "csv-1"}) {
      auto created = stack_->post(
          "/api/v1/devices",
          json_body({{"device_id", json::value(id)}, {"name", json::value(std::string("M ") + id)}}), owner_);
      ASSERT_EQ(created.status, 201) << created.body;
      keys_[id] = std::string(object_of(created.body).at("api_key").as_string());
      register_secret(keys_[id]);
    }
    auto rival_device = stack_->post("/api/v1/devices", R"({"device_id":"rival-1","name":"Rival"})", rival_);
    ASSERT_EQ(rival_device.status, 201) << rival_device.body;
    register_secret(std::string(object_of(rival_device.body).at("api_key").as_string()));
  }
  static void TearDownTestSuite() { stack_.reset(); }

  static std::string token_of(const std::string& factory, const std::string& email) {
    const std::string password = make_secret(24);
    auto u = stack_->cli({"admin", "create-user", "--factory", factory, "--email", email, "--role",
                          "super_admin", "--name", "Owner"},
                         password + "\n");
    EXPECT_EQ(u.status, 0) << u.output;
    return stack_->access_token(factory, email, password);
  }

  static std::string token_of_bootstrapped(const std::string& factory, const std::string& email) {
    const std::string password = stack_->bootstrap(factory, email);
    return stack_->access_token(factory, email, password);
  }

  static FactoryopsServer& server() { return stack_->server(); }

  static HttpResponse get(const std::string& target, const std::string& token = owner_,
                          const std::string& accept = {}) {
    auto headers = bearer(token);
    if (!accept.empty()) headers["Accept"] = accept;
    return server().get(target, headers);
  }

  // Posts `readings` for `device` and expects every one accepted.
  static void ingest(const std::string& device, const json::array& readings) {
    for (std::size_t at = 0; at < readings.size(); at += 500) {
      json::array batch(readings.begin() + static_cast<std::ptrdiff_t>(at),
                        readings.begin() + static_cast<std::ptrdiff_t>(std::min(readings.size(), at + 500)));
      auto r = server().request(
          "POST", "/api/v1/ingest", json::serialize(batch),
          {{"Authorization", "Device " + keys_.at(device)}, {"Content-Type", "application/json"}});
      ASSERT_EQ(r.status, 202) << r.body;
      EXPECT_EQ(object_of(r.body).at("accepted").to_number<std::int64_t>(),
                static_cast<std::int64_t>(batch.size()))
          << r.body;
    }
  }

  // Discovery runs off the ingest path: wait until the device's parameters are listed.
  static void wait_for_parameters(const std::string& device, std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = get("/api/v1/devices/" + device + "/parameters");
      if (r.status == 200 && object_of(r.body).at("items").as_array().size() >= count) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "parameters of " << device << " were not discovered";
  }

  static std::string range(std::int64_t from, std::int64_t to) {
    return "from=" + std::to_string(from) + "&to=" + std::to_string(to);
  }

  static const json::array& points_of(const json::object& body, std::size_t series) {
    return body.at("series").at(series).at("points").as_array();
  }

  static inline std::unique_ptr<IdentityStack> stack_;
  static inline std::string owner_, rival_;
  static inline std::map<std::string, std::string> keys_;
};

TEST_F(TelemetryQueryTest, RawPointsComeBackAsPostedAndDefaultToKpiParameters) {
  const std::int64_t start = (now_ms() - 30 * kMinuteMs) / kSecondMs * kSecondMs;
  json::array readings;
  for (int i = 0; i < 10; ++i) {
    readings.push_back(json::object{{"ts", start + i * kSecondMs},
                                    {"power_kw", 10.5 + i},
                                    {"voltage", 230.1},
                                    {"door_open", i % 2 == 0}});
  }
  ingest("press-1", readings);
  wait_for_parameters("press-1", 3);

  auto r = get("/api/v1/devices/press-1/telemetry?params=power_kw,door_open&interval=raw&" +
               range(start, start + kMinuteMs));
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = object_of(r.body);
  EXPECT_EQ(body.at("interval"), "raw");
  EXPECT_TRUE(body.at("agg").is_null());
  EXPECT_EQ(body.at("timezone"), "Europe/Berlin");
  ASSERT_EQ(points_of(body, 0).size(), 10u);
  EXPECT_EQ(points_of(body, 0).at(3).at(0).to_number<std::int64_t>(), start + 3 * kSecondMs);
  EXPECT_DOUBLE_EQ(points_of(body, 0).at(3).at(1).to_number<double>(), 13.5);
  EXPECT_DOUBLE_EQ(points_of(body, 1).at(0).at(1).to_number<double>(), 1.0);  // true is stored as 1
  EXPECT_DOUBLE_EQ(points_of(body, 1).at(1).at(1).to_number<double>(), 0.0);

  // Without params: the KPI-selected parameters only.
  auto off = server().request("PATCH", "/api/v1/devices/press-1/parameters/voltage",
                              R"({"is_kpi_selected":false})", bearer(owner_));
  ASSERT_EQ(off.status, 200) << off.body;
  auto defaults = object_of(get("/api/v1/devices/press-1/telemetry?" + range(start, start + kMinuteMs)).body);
  std::set<std::string> params;
  for (const auto& s : defaults.at("series").as_array())
    params.insert(std::string(s.at("param").as_string()));
  EXPECT_EQ(params, (std::set<std::string>{"door_open", "power_kw"}));

  // More raw points than max_points: refused, naming max_points.
  auto over = get("/api/v1/devices/press-1/telemetry?params=power_kw&interval=raw&max_points=9&" +
                  range(start, start + kMinuteMs));
  EXPECT_EQ(over.status, 400) << over.body;
  EXPECT_NE(over.body.find("max_points"), std::string::npos) << over.body;
}

TEST_F(TelemetryQueryTest, AggregatesHonourIntervalAndMaxPoints) {
  // Ten minutes at 1 Hz, aligned to a 10-minute boundary: value = seconds since start.
  const std::int64_t start = (now_ms() - 2 * kHourMs) / (10 * kMinuteMs) * (10 * kMinuteMs);
  json::array readings;
  for (int i = 0; i < 600; ++i)
    readings.push_back(json::object{{"ts", start + i * kSecondMs}, {"power_kw", i}});
  ingest("press-2", readings);
  const std::string window = range(start, start + 10 * kMinuteMs);

  // auto with max_points 100: 600 raw points are too many; 10 s buckets make 60.
  auto r = get("/api/v1/devices/press-2/telemetry?params=power_kw&max_points=100&" + window);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = object_of(r.body);
  EXPECT_EQ(body.at("interval"), "10s");
  EXPECT_EQ(body.at("agg"), "avg");
  ASSERT_EQ(points_of(body, 0).size(), 60u);
  EXPECT_DOUBLE_EQ(points_of(body, 0).at(1).at(1).to_number<double>(), 14.5);  // avg of 10..19

  // auto with room for every point answers them raw.
  auto raw =
      object_of(get("/api/v1/devices/press-2/telemetry?params=power_kw&max_points=600&" + window).body);
  EXPECT_EQ(raw.at("interval"), "raw");
  EXPECT_EQ(points_of(raw, 0).size(), 600u);

  // An explicit interval and aggregate.
  auto max =
      object_of(get("/api/v1/devices/press-2/telemetry?params=power_kw&interval=1m&agg=max&" + window).body);
  ASSERT_EQ(points_of(max, 0).size(), 10u);
  EXPECT_EQ(points_of(max, 0).at(2).at(0).to_number<std::int64_t>(), start + 2 * kMinuteMs);
  EXPECT_DOUBLE_EQ(points_of(max, 0).at(2).at(1).to_number<double>(), 179.0);
  auto count = object_of(
      get("/api/v1/devices/press-2/telemetry?params=power_kw&interval=5m&agg=count&" + window).body);
  ASSERT_EQ(points_of(count, 0).size(), 2u);
  EXPECT_DOUBLE_EQ(points_of(count, 0).at(0).at(1).to_number<double>(), 300.0);

  // An explicit interval needing more buckets than max_points is refused.
  auto refused =
      get("/api/v1/devices/press-2/telemetry?params=power_kw&interval=10s&max_points=59&" + window);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("max_points"), std::string::npos);
  EXPECT_EQ(get("/api/v1/devices/press-2/telemetry?interval=7m").status, 400);
  EXPECT_EQ(get("/api/v1/devices/press-2/telemetry?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z").status,
            400);
}

TEST_F(TelemetryQueryTest, DayBucketsAreLocalDaysAcrossTheAutumnChange) {
  // Berlin local midnights around the 25-hour day: CEST (+2) before it, CET (+1) after.
  const std::int64_t dst_day = last_berlin_fall_back_day_utc_midnight();
  const std::int64_t day_before = dst_day - kDayMs - 2 * kHourMs;
  const std::int64_t dst_midnight = dst_day - 2 * kHourMs;
  const std::int64_t day_after = dst_day + kDayMs - kHourMs;
  const std::int64_t end = day_after + kDayMs;
  json::array readings;
  for (std::int64_t t = day_before; t < end; t += kHourMs) {
    const double value = t < dst_midnight ? 1 : (t < day_after ? 2 : 3);
    readings.push_back(json::object{{"ts", t}, {"energy_kwh", value}});
  }
  ASSERT_EQ(readings.size(), 24u + 25u + 24u);
  ingest("meter-1", readings);

  auto r = get("/api/v1/devices/meter-1/telemetry?params=energy_kwh&interval=1d&agg=count&" +
               range(day_before, end));
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = object_of(r.body);
  EXPECT_EQ(body.at("interval"), "1d");
  const auto& days = points_of(body, 0);
  ASSERT_EQ(days.size(), 3u) << r.body;
  EXPECT_EQ(days.at(0).at(0).to_number<std::int64_t>(), day_before);
  EXPECT_EQ(days.at(1).at(0).to_number<std::int64_t>(), dst_midnight);
  EXPECT_EQ(days.at(2).at(0).to_number<std::int64_t>(), day_after);
  EXPECT_DOUBLE_EQ(days.at(0).at(1).to_number<double>(), 24.0);
  EXPECT_DOUBLE_EQ(days.at(1).at(1).to_number<double>(), 25.0);
  EXPECT_DOUBLE_EQ(days.at(2).at(1).to_number<double>(), 24.0);

  auto avg = object_of(
      get("/api/v1/devices/meter-1/telemetry?params=energy_kwh&interval=1d&agg=avg&" + range(day_before, end))
          .body);
  EXPECT_DOUBLE_EQ(points_of(avg, 0).at(1).at(1).to_number<double>(), 2.0);

  // auto over the three days with max_points 3 picks calendar days too.
  auto picked = object_of(
      get("/api/v1/devices/meter-1/telemetry?params=energy_kwh&max_points=3&" + range(day_before, end)).body);
  EXPECT_EQ(picked.at("interval"), "1d");
  EXPECT_EQ(points_of(picked, 0).size(), 3u);
}

TEST_F(TelemetryQueryTest, LatestMultiDeviceAndCsv) {
  const std::int64_t start = (now_ms() - 20 * kMinuteMs) / kSecondMs * kSecondMs;
  ingest("oven-1", json::array{json::object{{"ts", start}, {"power_kw", 5.25}, {"temp_c", 180}},
                               json::object{{"ts", start + 2 * kSecondMs}, {"power_kw", 6.5}}});
  ingest("csv-1", json::array{json::object{{"ts", start + kSecondMs}, {"power_kw", 1.5}}});

  auto latest = get("/api/v1/devices/oven-1/telemetry/latest");
  ASSERT_EQ(latest.status, 200) << latest.body;
  auto values = object_of(latest.body).at("values").as_array();
  ASSERT_EQ(values.size(), 2u) << latest.body;
  EXPECT_EQ(values.at(0).at("param"), "power_kw");
  EXPECT_DOUBLE_EQ(values.at(0).at("value").to_number<double>(), 6.5);
  auto only = object_of(get("/api/v1/devices/oven-1/telemetry/latest?params=temp_c").body);
  ASSERT_EQ(only.at("values").as_array().size(), 1u);
  EXPECT_EQ(only.at("values").at(0).at("param"), "temp_c");

  const std::string window = range(start, start + kMinuteMs);
  auto multi = get("/api/v1/telemetry?devices=oven-1,csv-1&param=power_kw&" + window);
  ASSERT_EQ(multi.status, 200) << multi.body;
  auto body = object_of(multi.body);
  EXPECT_EQ(body.at("param"), "power_kw");
  EXPECT_EQ(body.at("series").at(0).at("device_id"), "oven-1");
  EXPECT_EQ(points_of(body, 0).size(), 2u);
  EXPECT_EQ(body.at("series").at(1).at("device_id"), "csv-1");
  EXPECT_EQ(points_of(body, 1).size(), 1u);
  auto missing = get("/api/v1/telemetry?devices=oven-1,rival-1&param=power_kw");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("rival-1"), std::string::npos) << missing.body;

  auto csv = get("/api/v1/telemetry?devices=oven-1,csv-1&param=power_kw&" + window, owner_, "text/csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_NE(csv.header("content-type").find("text/csv"), std::string::npos);
  EXPECT_NE(csv.header("content-disposition").find("attachment"), std::string::npos);
  std::istringstream lines(csv.body);
  std::string line;
  std::vector<std::string> rows;
  while (std::getline(lines, line)) rows.push_back(line.substr(0, line.find('\r')));
  ASSERT_EQ(rows.size(), 4u) << csv.body;
  EXPECT_EQ(rows[0], "time,oven-1,csv-1");
  EXPECT_TRUE(rows[1].ends_with(",5.25,")) << rows[1];
  EXPECT_TRUE(rows[2].ends_with(",,1.5")) << rows[2];
  EXPECT_TRUE(rows[3].ends_with(",6.5,")) << rows[3];

  auto device_csv = get("/api/v1/devices/oven-1/telemetry?params=power_kw,temp_c&format=csv&" + window);
  ASSERT_EQ(device_csv.status, 200) << device_csv.body;
  EXPECT_EQ(device_csv.header("content-disposition"), "attachment; filename=\"oven-1-telemetry.csv\"");
  EXPECT_TRUE(device_csv.body.starts_with("time,power_kw,temp_c\r\n")) << device_csv.body;
}

TEST_F(TelemetryQueryTest, AnotherFactorysMachineIsNotFound) {
  for (const std::string target :
       {"/api/v1/devices/press-1/telemetry", "/api/v1/devices/press-1/telemetry/latest",
        "/api/v1/telemetry?devices=press-1&param=power_kw"}) {
    auto r = get(target, rival_);
    EXPECT_EQ(r.status, 404) << target << ": " << r.body;
    EXPECT_EQ(r.body.find("power_kw\":"), std::string::npos);
  }
  EXPECT_EQ(get("/api/v1/devices/rival-1/telemetry").status, 404);
}

TEST_F(TelemetryQueryTest, RetentionIsValidatedStoredAuditedAndSuperAdminOnly) {
  auto storage = get("/api/v1/telemetry/storage");
  ASSERT_EQ(storage.status, 200) << storage.body;
  auto body = object_of(storage.body);
  EXPECT_EQ(body.at("engine"), "embedded");
  EXPECT_TRUE(body.at("series").is_number());
  const auto& retention = body.at("retention");
  EXPECT_EQ(retention.at("raw_days").to_number<int>(), 183);
  EXPECT_EQ(retention.at("rollup_days").to_number<int>(), 730);
  EXPECT_EQ(retention.at("overridden"), false);

  for (const char* bad : {R"({"raw_days":182})", R"({"raw_days":367})", R"({"rollup_days":729})",
                          R"({"rollup_days":1827})", R"({"raw_days":"200"})", R"({"hot_days":3})"}) {
    auto r = server().request("PATCH", "/api/v1/telemetry/retention", bad, bearer(owner_));
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
  auto changed = server().request("PATCH", "/api/v1/telemetry/retention",
                                  R"({"raw_days":366,"rollup_days":1826})", bearer(owner_));
  ASSERT_EQ(changed.status, 200) << changed.body;
  auto after = object_of(get("/api/v1/telemetry/storage").body).at("retention").as_object();
  EXPECT_EQ(after.at("raw_days").to_number<int>(), 366);
  EXPECT_EQ(after.at("rollup_days").to_number<int>(), 1826);
  EXPECT_EQ(after.at("raw_days_default").to_number<int>(), 183);
  EXPECT_EQ(after.at("overridden"), true);
  // The rival factory keeps its defaults.
  EXPECT_EQ(object_of(get("/api/v1/telemetry/storage", rival_).body).at("retention").at("overridden"), false);

  auto reset = server().request("PATCH", "/api/v1/telemetry/retention",
                                R"({"raw_days":null,"rollup_days":null})", bearer(owner_));
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(object_of(reset.body).at("retention").at("overridden"), false);

  // serve applied the policies once when it started (no factory existed yet).
  EXPECT_NE(server().log().find("retention cycle finished"), std::string::npos);

  auto log = get("/api/v1/audit-log?action=telemetry.retention_changed");
  ASSERT_EQ(log.status, 200) << log.body;
  EXPECT_EQ(object_of(log.body).at("items").as_array().size(), 2u) << log.body;

  // An admin (not super admin) may view machines but not the factory's storage settings.
  auto invite =
      stack_->post("/api/v1/users/invite",
                   R"({"email":"ops@plant.example","role":"admin","permissions":{"machines":true}})", owner_);
  ASSERT_EQ(invite.status, 201) << invite.body;
  const std::string invitation =
      invite_token(std::string(object_of(invite.body).at("invite_url").as_string()));
  const std::string password = make_secret(24);
  auto accepted =
      stack_->post("/api/v1/auth/accept-invite", json_body({{"token", json::value(invitation)},
                                                            {"name", json::value("Ops")},
                                                            {"password", json::value(password)}}));
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  const std::string admin = std::string(object_of(accepted.body).at("access_token").as_string());
  EXPECT_EQ(get("/api/v1/telemetry/storage", admin).status, 403);
  EXPECT_EQ(
      server().request("PATCH", "/api/v1/telemetry/retention", R"({"raw_days":200})", bearer(admin)).status,
      403);
  EXPECT_EQ(get("/api/v1/devices/press-1/telemetry/latest", admin).status, 200);
}

// The retention columns on each metadata store (MariaDB when its server is installed).
class TelemetryRetentionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TelemetryRetentionTest, SettingsRoundTrip) {
  IdentityStack stack(GetParam(), "telemetry-retention");
  const std::string password = stack.bootstrap("works", "owner@works.example");
  const std::string token = stack.access_token("works", "owner@works.example", password);
  auto changed =
      stack.server().request("PATCH", "/api/v1/telemetry/retention", R"({"raw_days":250})", bearer(token));
  ASSERT_EQ(changed.status, 200) << changed.body;
  auto retention =
      object_of(stack.server().get("/api/v1/telemetry/storage", bearer(token)).body).at("retention");
  EXPECT_EQ(retention.at("raw_days").to_number<int>(), 250);
  EXPECT_EQ(retention.at("rollup_days").to_number<int>(), 730);
  EXPECT_EQ(stack.server()
                .request("PATCH", "/api/v1/telemetry/retention", R"({"rollup_days":2000})", bearer(token))
                .status,
            400);
  auto log = stack.server().get("/api/v1/audit-log?action=telemetry.retention_changed", bearer(token));
  EXPECT_EQ(object_of(log.body).at("items").as_array().size(), 1u) << log.body;
}

INSTANTIATE_TEST_SUITE_P(Backends, TelemetryRetentionTest, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace factoryops::testing
