// TelemetryQueryService over a store double and a real SQLite metadata store: KPI defaults,
// raw versus aggregated under max_points, not-found for other factories' machines, the
// multi-device form, storage and retention settings with their audit entry.
#include "tsdb/telemetry_query_service.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "telemetry_query_store_double.hpp"
#include "unit/devices/device_fixture.hpp"

namespace factoryops::tsdb {
namespace {
using devices::testing::context_for;

constexpr std::int64_t kFrom = 1'795'737'600'000;  // 2026-11-27T00:00:00Z

class TelemetryQueryServiceTest : public devices::testing::DeviceDatabaseTest {
 protected:
  void SetUp() override {
    DeviceDatabaseTest::SetUp();
    auto machines = context_for("acme", auth::Role::super_admin);
    for (const char* id : {"press-1", "press-2"}) service_->create(machines, {.device_id = id, .name = id});
    service_->create(context_for("rival", auth::Role::super_admin),
                     {.device_id = "rival-1", .name = "Rival"});
    auto& repo = service_->repository();
    for (const char* key : {"voltage", "power_kw", "temp"})
      repo.upsert_parameter(core::FactoryId("acme"), core::DeviceId("press-1"), key, "number", kFrom);
    service_->update_parameter(machines, "press-1", "temp", {.is_kpi_selected = false});
    telemetry_ = std::make_unique<TelemetryQueryService>(*db_, store_, RetentionPolicy{200, 800},
                                                         [] { return kFrom + kHourMs; });
  }

  QueryPlan plan(std::vector<std::string> params, std::int64_t from, std::int64_t to, std::size_t max_points,
                 IntervalMode mode = IntervalMode::kAuto, std::int64_t interval_ms = 0) {
    QueryPlan p;
    p.params = std::move(params);
    p.from_ms = from;
    p.to_ms = to;
    p.max_points = max_points;
    p.mode = mode;
    p.interval_ms = interval_ms;
    return p;
  }

  testing::StoreDouble store_;
  std::unique_ptr<TelemetryQueryService> telemetry_;
  const auth::FactoryContext viewer_ = context_for("acme", auth::Role::admin);
};

TEST_F(TelemetryQueryServiceTest, WithoutParamsAsksForTheKpiSelectedOnes) {
  store_.fill("acme", "press-1", "power_kw", kFrom, 1000, 10);
  auto answer = telemetry_->query(viewer_, "press-1", plan({}, kFrom, kFrom + kHourMs, 1000));
  ASSERT_EQ(store_.raw_queries.size(), 1u);
  EXPECT_EQ(store_.raw_queries[0].metrics, (std::vector<std::string>{"power_kw", "voltage"}));
  ASSERT_EQ(answer.series.size(), 2u);
  EXPECT_EQ(answer.series[0].metric, "power_kw");
  EXPECT_EQ(answer.series[0].points.size(), 10u);
  EXPECT_TRUE(answer.series[1].points.empty());
  EXPECT_FALSE(answer.interval_ms);
  EXPECT_FALSE(answer.aggregate);
  EXPECT_EQ(answer.timezone, "UTC");
}

TEST_F(TelemetryQueryServiceTest, ADeviceWithoutKpiParametersAnswersNoSeries) {
  auto answer = telemetry_->query(viewer_, "press-2", plan({}, kFrom, kFrom + kHourMs, 1000));
  EXPECT_TRUE(answer.series.empty());
  EXPECT_TRUE(store_.raw_queries.empty());
}

TEST_F(TelemetryQueryServiceTest, UnknownAndForeignDevicesAreNotFound) {
  auto p = plan({"power_kw"}, kFrom, kFrom + kHourMs, 1000);
  EXPECT_THROW(telemetry_->query(viewer_, "nope", p), core::NotFound);
  EXPECT_THROW(telemetry_->query(viewer_, "rival-1", p), core::NotFound);
  EXPECT_THROW(telemetry_->query(viewer_, "../etc", p), core::NotFound);
  EXPECT_THROW(telemetry_->latest(viewer_, "rival-1", {}), core::NotFound);
  const std::vector<std::string> devices{"press-1", "rival-1"};
  try {
    telemetry_->query_devices(viewer_, devices, "power_kw", p);
    FAIL() << "a foreign device was queried";
  } catch (const core::NotFound& e) {
    EXPECT_NE(std::string(e.what()).find("rival-1"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(store_.raw_queries.empty()) << "the store was asked before every device was checked";
}

TEST_F(TelemetryQueryServiceTest, AutoNeverAnswersMoreThanMaxPoints) {
  // One point a second for an hour: 3600 raw points.
  store_.fill("acme", "press-1", "power_kw", kFrom, 1000, 3600);
  const std::int64_t to = kFrom + kHourMs;
  struct Case {
    std::size_t max_points;
    std::optional<std::int64_t> interval;
  };
  for (const Case& c :
       {Case{5000, std::nullopt}, Case{3600, std::nullopt}, Case{3599, 10'000}, Case{360, 10'000},
        Case{359, 30'000}, Case{100, kMinuteMs}, Case{12, 5 * kMinuteMs}, Case{1, kHourMs}}) {
    auto answer = telemetry_->query(viewer_, "press-1", plan({"power_kw"}, kFrom, to, c.max_points));
    ASSERT_EQ(answer.series.size(), 1u);
    EXPECT_LE(answer.series[0].points.size(), c.max_points) << c.max_points;
    EXPECT_EQ(answer.interval_ms, c.interval) << c.max_points;
    if (!c.interval) {
      EXPECT_EQ(answer.series[0].points.size(), 3600u);
    }
  }
  // Deciding raw or not reads at most max_points + 1 raw points per series.
  for (const auto& q : store_.raw_queries) EXPECT_LE(q.limit, 5001u);
  EXPECT_EQ(store_.raw_queries.back().limit, 2u);
}

TEST_F(TelemetryQueryServiceTest, AutoAggregatesWithTheRequestedFunction) {
  store_.fill("acme", "press-1", "power_kw", kFrom, 1000, 3600);
  auto p = plan({"power_kw"}, kFrom, kFrom + kHourMs, 100);
  p.aggregate = Aggregate::kMax;
  auto answer = telemetry_->query(viewer_, "press-1", p);
  ASSERT_EQ(store_.aggregate_queries.size(), 1u);
  EXPECT_EQ(store_.aggregate_queries[0].aggregate, Aggregate::kMax);
  EXPECT_EQ(store_.aggregate_queries[0].interval_ms, kMinuteMs);
  EXPECT_EQ(answer.aggregate, Aggregate::kMax);
}

TEST_F(TelemetryQueryServiceTest, RawOverMaxPointsIsRefusedNamingMaxPoints) {
  store_.fill("acme", "press-1", "power_kw", kFrom, 1000, 11);
  auto p = plan({"voltage", "power_kw"}, kFrom, kFrom + kHourMs, 10, IntervalMode::kRaw);
  try {
    telemetry_->query(viewer_, "press-1", p);
    FAIL() << "11 raw points answered under max_points=10";
  } catch (const core::Invalid& e) {
    EXPECT_EQ(e.field(), "max_points");
    EXPECT_NE(std::string(e.what()).find("power_kw"), std::string::npos) << e.what();
  }
  p.max_points = 11;
  EXPECT_EQ(telemetry_->query(viewer_, "press-1", p).series[1].points.size(), 11u);
}

TEST_F(TelemetryQueryServiceTest, ExplicitIntervalOverMaxPointsIsRefusedBeforeReading) {
  auto p = plan({"power_kw"}, kFrom, kFrom + kDayMs, 1000, IntervalMode::kFixed, kMinuteMs);
  EXPECT_THROW(telemetry_->query(viewer_, "press-1", p), core::Invalid);
  EXPECT_TRUE(store_.aggregate_queries.empty());
  p.interval_ms = 5 * kMinuteMs;
  auto answer = telemetry_->query(viewer_, "press-1", p);
  EXPECT_EQ(answer.interval_ms, 5 * kMinuteMs);
  EXPECT_EQ(store_.aggregate_queries.at(0).timezone, "UTC");
}

TEST_F(TelemetryQueryServiceTest, AutoOverAYearWithTooFewPointsIsRefused) {
  store_.fill("acme", "press-1", "power_kw", kFrom - 300 * kDayMs, kHourMs, 24 * 300);
  auto p = plan({"power_kw"}, kFrom - 365 * kDayMs, kFrom, 100);
  try {
    telemetry_->query(viewer_, "press-1", p);
    FAIL();
  } catch (const core::Invalid& e) {
    EXPECT_EQ(e.field(), "max_points");
  }
  p.max_points = 365;
  auto answer = telemetry_->query(viewer_, "press-1", p);
  EXPECT_EQ(answer.interval_ms, kDayMs);
  EXPECT_LE(answer.series[0].points.size(), 365u);
}

TEST_F(TelemetryQueryServiceTest, AnEngineAnsweringTooManyBucketsIsClamped) {
  store_.fill("acme", "press-1", "power_kw", kFrom, 1000, 3600);
  store_.extra_buckets = 5;
  auto answer = telemetry_->query(
      viewer_, "press-1", plan({"power_kw"}, kFrom, kFrom + kHourMs, 60, IntervalMode::kFixed, kMinuteMs));
  EXPECT_EQ(answer.series[0].points.size(), 60u);
}

TEST_F(TelemetryQueryServiceTest, MultiDeviceSeriesAreNamedByDeviceInOrder) {
  store_.fill("acme", "press-1", "power_kw", kFrom, 1000, 20);
  store_.fill("acme", "press-2", "power_kw", kFrom, 1000, 3600);
  const std::vector<std::string> devices{"press-2", "press-1"};
  auto answer =
      telemetry_->query_devices(viewer_, devices, "power_kw", plan({}, kFrom, kFrom + kHourMs, 1000));
  ASSERT_EQ(answer.series.size(), 2u);
  EXPECT_EQ(answer.series[0].metric, "press-2");
  EXPECT_EQ(answer.series[1].metric, "press-1");
  // press-2 holds 3600 points, so both come aggregated at the same interval.
  EXPECT_EQ(answer.interval_ms, 10'000);
  EXPECT_EQ(answer.series[0].points.size(), 360u);
  EXPECT_EQ(answer.series[1].points.size(), 2u);

  const std::vector<std::string> none;
  EXPECT_THROW(telemetry_->query_devices(viewer_, none, "power_kw", plan({}, kFrom, kFrom + 1, 10)),
               core::Invalid);
  std::vector<std::string> many(51, "press-1");
  EXPECT_THROW(telemetry_->query_devices(viewer_, many, "power_kw", plan({}, kFrom, kFrom + 1, 10)),
               core::Invalid);
  EXPECT_THROW(telemetry_->query_devices(viewer_, devices, "bad key", plan({}, kFrom, kFrom + 1, 10)),
               core::Invalid);
}

TEST_F(TelemetryQueryServiceTest, LatestPassesTheParameters) {
  store_.fill("acme", "press-1", "power_kw", kFrom, 1000, 3);
  store_.fill("acme", "press-1", "voltage", kFrom, 1000, 5);
  EXPECT_EQ(telemetry_->latest(viewer_, "press-1", {}).size(), 2u);
  const std::vector<std::string> only{"voltage"};
  auto values = telemetry_->latest(viewer_, "press-1", only);
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].ts_ms, kFrom + 4000);
  EXPECT_EQ(values[0].value, 4);
}

TEST_F(TelemetryQueryServiceTest, StorageShowsDefaultsUntilOverridden) {
  auto report = telemetry_->storage(owner_);
  EXPECT_EQ(report.engine, "double");
  EXPECT_EQ(report.usage.bytes, 4096);
  EXPECT_EQ(report.retention.raw_days, 200);
  EXPECT_EQ(report.retention.rollup_days, 800);
  EXPECT_FALSE(report.overridden);
  EXPECT_THROW(telemetry_->storage(viewer_), core::Forbidden);
  EXPECT_THROW(telemetry_->update_retention(viewer_, {.raw_days = 200}), core::Forbidden);
}

TEST_F(TelemetryQueryServiceTest, RetentionChangesAreValidatedStoredAndAudited) {
  auto changed = telemetry_->update_retention(owner_, {.raw_days = 366});
  EXPECT_EQ(changed.retention.raw_days, 366);
  EXPECT_EQ(changed.retention.rollup_days, 800);
  EXPECT_TRUE(changed.overridden);
  EXPECT_EQ(audit_count("acme", "telemetry.retention_changed"), 1);

  changed = telemetry_->update_retention(owner_, {.rollup_days = 1826});
  EXPECT_EQ(changed.retention.raw_days, 366);
  EXPECT_EQ(changed.retention.rollup_days, 1826);

  for (int bad : {182, 367, -1}) {
    try {
      telemetry_->update_retention(owner_, {.raw_days = bad});
      FAIL() << bad;
    } catch (const core::Invalid& e) {
      EXPECT_EQ(e.field(), "raw_days");
    }
  }
  for (int bad : {729, 1827}) {
    try {
      telemetry_->update_retention(owner_, {.rollup_days = bad});
      FAIL() << bad;
    } catch (const core::Invalid& e) {
      EXPECT_EQ(e.field(), "rollup_days");
    }
  }
  EXPECT_EQ(audit_count("acme", "telemetry.retention_changed"), 2);

  // null returns to the default; the other factory never changed.
  changed = telemetry_->update_retention(owner_, {.raw_days = std::optional<int>{}, .rollup_days = 730});
  EXPECT_EQ(changed.retention.raw_days, 200);
  EXPECT_EQ(changed.retention.rollup_days, 730);
  EXPECT_TRUE(changed.overridden);
  EXPECT_FALSE(telemetry_->storage(rival_).overridden);

  auto policies = telemetry_->policies();
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[0].first.str(), "acme");
  EXPECT_EQ(policies[0].second.raw_days, 200);
  EXPECT_EQ(policies[0].second.rollup_days, 730);
  EXPECT_EQ(policies[1].second.rollup_days, 800);
}

}  // namespace
}  // namespace factoryops::tsdb
