// The behaviour every TelemetryStore engine owes its callers, written against the interface
// only. An engine's test file includes this header in exactly ONE translation unit of its test
// executable and instantiates the suite:
//
//   INSTANTIATE_TEST_SUITE_P(Embedded, TelemetryStoreConformance,
//                            ::testing::Values(StoreConformanceParam{"embedded", open, reopen}),
//                            conformance_param_name);
//
// Tests use their own random factory ids, so a store may share its storage across tests.
// Factories whose id starts with "berlin-" or "kolkata-" live in Europe/Berlin and Asia/Kolkata
// (conformance_timezone_of), for engines that keep day rollups in the factory's zone.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "tsdb/store.hpp"

namespace factoryops::tsdb::conformance {

struct StoreConformanceParam {
  std::string name;  // the instantiation's name: [A-Za-z0-9_]
  // Opens a store. Each call may open fresh storage or the same storage as before.
  std::function<std::unique_ptr<TelemetryStore>()> open;
  // Opens a second store over the storage of the most recent `open` (after that store was
  // destroyed): what was written must still be there. Required.
  std::function<std::unique_ptr<TelemetryStore>()> reopen;
};

// gtest prints a failing test's parameter: its name, not its bytes.
inline void PrintTo(const StoreConformanceParam& param, std::ostream* os) {
  *os << param.name;
}

inline std::string conformance_param_name(const ::testing::TestParamInfo<StoreConformanceParam>& param) {
  return param.param.name;
}

inline std::string conformance_timezone_of(const core::FactoryId& factory) {
  if (factory.str().rfind("berlin-", 0) == 0) return "Europe/Berlin";
  if (factory.str().rfind("kolkata-", 0) == 0) return "Asia/Kolkata";
  return "UTC";
}

namespace detail {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
inline std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

inline std::int64_t civil_year_of(std::int64_t ms) {
  // Good enough to pick candidate years: the year of the day, +/- one.
  return 1970 + (ms / kDayMs) * 400 / 146097;
}

// The day (days since epoch) of the last Sunday of a 31-day month: the day of EU clock changes.
inline std::int64_t last_sunday(std::int64_t year, unsigned month) {
  std::int64_t day = days_from_civil(year, month, 31);
  const std::int64_t weekday = ((day % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday (4)
  return day - weekday;
}

// The most recent EU clock change of `month` (3 or 10) that lies at least 3 days in the past.
inline std::int64_t recent_change_day(unsigned month) {
  const std::int64_t now = now_ms();
  for (std::int64_t year = civil_year_of(now) + 1; year > 1970; --year) {
    const std::int64_t day = last_sunday(year, month);
    if (day * kDayMs + kHourMs + 3 * kDayMs < now) return day;
  }
  return 0;
}

}  // namespace detail

class TelemetryStoreConformance : public ::testing::TestWithParam<StoreConformanceParam> {
 protected:
  void SetUp() override {
    store_ = GetParam().open();
    ASSERT_TRUE(store_) << "the factory returned no store";
    // UTC midnight ten days ago: recent enough for every engine's retention.
    base_ = (detail::now_ms() / kDayMs - 10) * kDayMs;
  }

  // A factory id no other test (or earlier run over the same storage) uses.
  static core::FactoryId factory(const std::string& prefix) {
    static std::mt19937_64 rng(std::random_device{}());
    static const char* kHex = "0123456789abcdef";
    std::string id = prefix + "-";
    for (int i = 0; i < 12; ++i) id.push_back(kHex[rng() % 16]);
    return core::FactoryId(id);
  }

  static DeviceBatch batch(const core::FactoryId& f, const std::string& device,
                           std::vector<Reading> readings) {
    return DeviceBatch{f, core::DeviceId(device), std::move(readings)};
  }

  void write(std::vector<DeviceBatch> batches) { store_->write(batches); }

  void write_one(const core::FactoryId& f, const std::string& device, std::int64_t ts,
                 const std::string& metric, double value) {
    write({batch(f, device, {Reading{ts, {Field{metric, value}}}})});
  }

  std::vector<Series> raw(const core::FactoryId& f, const std::string& device,
                          std::vector<std::string> metrics, std::int64_t from, std::int64_t to,
                          std::size_t limit = 1000) {
    return store_->read_raw(RawQuery{f, core::DeviceId(device), std::move(metrics), from, to, limit});
  }

  std::vector<Series> agg(const core::FactoryId& f, const std::string& device,
                          std::vector<std::string> metrics, std::int64_t from, std::int64_t to,
                          std::int64_t interval, Aggregate aggregate, std::string timezone = "UTC") {
    return store_->read_aggregate(AggregateQuery{f, core::DeviceId(device), std::move(metrics), from, to,
                                                 interval, aggregate, std::move(timezone)});
  }

  // The single series of a one-metric answer.
  static std::vector<Point> only(const std::vector<Series>& series) {
    EXPECT_EQ(series.size(), 1u);
    return series.empty() ? std::vector<Point>{} : series.front().points;
  }

  // Minute buckets from base_: [1, 2, 3] | [10] | (empty) | [4, -6]. Metrics with dots and
  // dashes are ordinary metric keys.
  core::FactoryId seed() {
    auto f = factory("agg");
    write({batch(
        f, "d",
        {Reading{base_ + 200'000, {Field{"p.x-1", -6}}}, Reading{base_, {Field{"p.x-1", 1}}},
         Reading{base_ + 30'000, {Field{"p.x-1", 2}}}, Reading{base_ + 59'999, {Field{"p.x-1", 3}}},
         Reading{base_ + 60'000, {Field{"p.x-1", 10}}}, Reading{base_ + 180'000, {Field{"p.x-1", 4}}}})});
    return f;
  }
  std::vector<Point> minutes(const core::FactoryId& f, Aggregate aggregate, std::int64_t from,
                             std::int64_t to) {
    return only(agg(f, "d", {"p.x-1"}, from, to, kMinuteMs, aggregate));
  }
  std::vector<Point> at(std::vector<double> values,
                        std::vector<std::int64_t> offsets = {0, 60'000, 180'000}) {
    std::vector<Point> out;
    for (std::size_t i = 0; i < values.size(); ++i) out.push_back(Point{base_ + offsets[i], values[i]});
    return out;
  }

  std::unique_ptr<TelemetryStore> store_;
  std::int64_t base_ = 0;
};

TEST_P(TelemetryStoreConformance, NamesItsEngineAndIsReachable) {
  EXPECT_TRUE(store_->engine() == "embedded" || store_->engine() == "influxdb") << store_->engine();
  auto status = store_->status();
  EXPECT_TRUE(status.reachable) << status.detail;
  EXPECT_EQ(status.spooled_batches, 0);
}

TEST_P(TelemetryStoreConformance, RawPointsRoundTripExactly) {
  auto f = factory("rt");
  const std::vector<double> values = {230.2,   0.912, 1.0 / 3.0, 1e300,    -2.5e-10, 12345678.901234567,
                                      -49.987, 0.0,   7.0,       0.1 + 0.2};
  std::vector<Reading> readings;
  for (std::size_t i = 0; i < values.size(); ++i) {
    readings.push_back(Reading{base_ + static_cast<std::int64_t>(i) * 1000,
                               {Field{"v", values[i]}, Field{"running", i % 2 == 0 ? 1.0 : 0.0}}});
  }
  write({batch(f, "meter-1", readings)});

  auto series = raw(f, "meter-1", {"v", "running"}, base_, base_ + kHourMs);
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].metric, "v");
  EXPECT_EQ(series[1].metric, "running");
  ASSERT_EQ(series[0].points.size(), values.size());
  ASSERT_EQ(series[1].points.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto ts = base_ + static_cast<std::int64_t>(i) * 1000;
    EXPECT_EQ(series[0].points[i].ts_ms, ts);
    // Bit-exact: a meter value must come back as the same double, not a near neighbour.
    EXPECT_EQ(series[0].points[i].value, values[i]) << "index " << i;
    EXPECT_EQ(series[1].points[i], (Point{ts, i % 2 == 0 ? 1.0 : 0.0}));
  }
}

TEST_P(TelemetryStoreConformance, ReadingsMayCarryDifferentMetricsAndSeveralDevicesPerWrite) {
  auto f = factory("mix");
  write({batch(f, "a",
               {Reading{base_, {Field{"x", 1}}}, Reading{base_ + 1000, {Field{"y", 2}}},
                Reading{base_ + 2000, {Field{"x", 3}, Field{"y", 4}}}}),
         batch(f, "b", {Reading{base_, {Field{"x", 100}}}})});
  auto a = raw(f, "a", {"y", "x"}, base_, base_ + kMinuteMs);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].metric, "y");
  EXPECT_EQ(a[0].points, (std::vector<Point>{{base_ + 1000, 2}, {base_ + 2000, 4}}));
  EXPECT_EQ(a[1].metric, "x");
  EXPECT_EQ(a[1].points, (std::vector<Point>{{base_, 1}, {base_ + 2000, 3}}));
  EXPECT_EQ(only(raw(f, "b", {"x"}, base_, base_ + kMinuteMs)), (std::vector<Point>{{base_, 100}}));
}

TEST_P(TelemetryStoreConformance, LateAndOutOfOrderPointsComeBackSorted) {
  auto f = factory("late");
  write({batch(f, "d",
               {Reading{base_ + 5000, {Field{"t", 5}}}, Reading{base_ + 1000, {Field{"t", 1}}},
                Reading{base_ + 3000, {Field{"t", 3}}}})});
  // A backlog upload: days older than what is already stored, after newer points.
  write({batch(f, "d",
               {Reading{base_ - 3 * kDayMs, {Field{"t", -3}}}, Reading{base_ + 2000, {Field{"t", 2}}}})});
  write({batch(f, "d", {Reading{base_ + 4000, {Field{"t", 4}}}})});
  EXPECT_EQ(only(raw(f, "d", {"t"}, base_ - 4 * kDayMs, base_ + kMinuteMs)),
            (std::vector<Point>{{base_ - 3 * kDayMs, -3},
                                {base_ + 1000, 1},
                                {base_ + 2000, 2},
                                {base_ + 3000, 3},
                                {base_ + 4000, 4},
                                {base_ + 5000, 5}}));
  // Aggregates see the late points too.
  EXPECT_EQ(only(agg(f, "d", {"t"}, base_ - 4 * kDayMs, base_ + kDayMs, kDayMs, Aggregate::kCount)),
            (std::vector<Point>{{base_ - 3 * kDayMs, 1}, {base_, 5}}));
}

TEST_P(TelemetryStoreConformance, SameTimestampTwiceKeepsTheLastValueWritten) {
  auto f = factory("dup");
  write_one(f, "d", base_, "p", 1);
  write_one(f, "d", base_, "p", 2);
  // Within one batch, the later reading wins.
  write({batch(f, "d", {Reading{base_ + 1000, {Field{"p", 10}}}, Reading{base_ + 1000, {Field{"p", 11}}}})});
  EXPECT_EQ(only(raw(f, "d", {"p"}, base_, base_ + kMinuteMs)),
            (std::vector<Point>{{base_, 2}, {base_ + 1000, 11}}));

  store_->flush();
  write_one(f, "d", base_, "p", 3);
  EXPECT_EQ(only(raw(f, "d", {"p"}, base_, base_ + kMinuteMs)),
            (std::vector<Point>{{base_, 3}, {base_ + 1000, 11}}));
  store_->flush();
  EXPECT_EQ(only(raw(f, "d", {"p"}, base_, base_ + kMinuteMs)),
            (std::vector<Point>{{base_, 3}, {base_ + 1000, 11}}));
  // An overwritten point counts once, with its last value.
  EXPECT_EQ(only(agg(f, "d", {"p"}, base_, base_ + kMinuteMs, kMinuteMs, Aggregate::kCount)),
            (std::vector<Point>{{base_, 2}}));
  EXPECT_EQ(only(agg(f, "d", {"p"}, base_, base_ + kMinuteMs, kMinuteMs, Aggregate::kSum)),
            (std::vector<Point>{{base_, 14}}));
}

TEST_P(TelemetryStoreConformance, RawHonoursHalfOpenRangeAndLimit) {
  auto f = factory("lim");
  std::vector<Reading> readings;
  for (int i = 0; i < 10; ++i) readings.push_back(Reading{base_ + i * 1000, {Field{"p", double(i)}}});
  write({batch(f, "d", readings)});

  auto range = only(raw(f, "d", {"p"}, base_ + 2000, base_ + 5000));
  EXPECT_EQ(range, (std::vector<Point>{{base_ + 2000, 2}, {base_ + 3000, 3}, {base_ + 4000, 4}}));
  EXPECT_EQ(only(raw(f, "d", {"p"}, base_, base_ + kMinuteMs, 3)),
            (std::vector<Point>{{base_, 0}, {base_ + 1000, 1}, {base_ + 2000, 2}}));
  EXPECT_EQ(only(raw(f, "d", {"p"}, base_ + 8000, base_ + kMinuteMs, 5)).size(), 2u);
  EXPECT_TRUE(only(raw(f, "d", {"p"}, base_ + 10'000, base_ + kMinuteMs)).empty());
  // A 1 ms range holds exactly the point at its start.
  EXPECT_EQ(only(raw(f, "d", {"p"}, base_ + 7000, base_ + 7001)), (std::vector<Point>{{base_ + 7000, 7}}));
}

TEST_P(TelemetryStoreConformance, UnknownMetricsAnswerEmptySeriesInTheAskedOrder) {
  auto f = factory("unk");
  write_one(f, "d", base_, "p", 1);
  auto series = raw(f, "d", {"nope", "p", "also-missing"}, base_, base_ + kMinuteMs);
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0].metric, "nope");
  EXPECT_TRUE(series[0].points.empty());
  EXPECT_EQ(series[1].metric, "p");
  EXPECT_EQ(series[1].points.size(), 1u);
  EXPECT_EQ(series[2].metric, "also-missing");
  EXPECT_TRUE(series[2].points.empty());

  auto aggregated = agg(f, "d", {"also-missing", "p"}, base_, base_ + kHourMs, kMinuteMs, Aggregate::kAvg);
  ASSERT_EQ(aggregated.size(), 2u);
  EXPECT_EQ(aggregated[0].metric, "also-missing");
  EXPECT_TRUE(aggregated[0].points.empty());
  EXPECT_EQ(aggregated[1].points, (std::vector<Point>{{base_, 1}}));

  auto unknown_device = raw(f, "never-written", {"p"}, base_, base_ + kMinuteMs);
  ASSERT_EQ(unknown_device.size(), 1u);
  EXPECT_TRUE(unknown_device[0].points.empty());
}

TEST_P(TelemetryStoreConformance, EveryFunctionPerBucketWithEmptyBucketsOmitted) {
  auto f = seed();
  const auto to = base_ + 4 * kMinuteMs;
  EXPECT_EQ(minutes(f, Aggregate::kAvg, base_, to), at({2, 10, -1}));
  EXPECT_EQ(minutes(f, Aggregate::kMin, base_, to), at({1, 10, -6}));
  EXPECT_EQ(minutes(f, Aggregate::kMax, base_, to), at({3, 10, 4}));
  EXPECT_EQ(minutes(f, Aggregate::kSum, base_, to), at({6, 10, -2}));
  EXPECT_EQ(minutes(f, Aggregate::kCount, base_, to), at({3, 1, 2}));
  EXPECT_EQ(minutes(f, Aggregate::kFirst, base_, to), at({1, 10, 4}));
  EXPECT_EQ(minutes(f, Aggregate::kLast, base_, to), at({3, 10, -6}));
}

TEST_P(TelemetryStoreConformance, UnalignedRangeKeepsBucketStartsAndDropsOutsidePoints) {
  auto f = seed();
  // from rounds down to base_, but the point at base_ lies before from; the point at +200 s
  // lies at or after to.
  EXPECT_EQ(minutes(f, Aggregate::kCount, base_ + 30'000, base_ + 200'000), at({2, 1, 1}));
  EXPECT_EQ(minutes(f, Aggregate::kFirst, base_ + 30'000, base_ + 200'000), at({2, 10, 4}));
  EXPECT_EQ(minutes(f, Aggregate::kSum, base_ + 1, base_ + 60'001), at({5, 10}, {0, 60'000}));
}

TEST_P(TelemetryStoreConformance, CoarserIntervalsAlignToTheEpoch) {
  auto f = seed();
  write_one(f, "d", base_ + 20 * kMinuteMs, "p.x-1", 100);
  write_one(f, "d", base_ + 3 * kHourMs + 1, "p.x-1", 1000);
  EXPECT_EQ(only(agg(f, "d", {"p.x-1"}, base_, base_ + kDayMs, 15 * kMinuteMs, Aggregate::kMax)),
            (std::vector<Point>{{base_, 10}, {base_ + 15 * kMinuteMs, 100}, {base_ + 3 * kHourMs, 1000}}));
  EXPECT_EQ(only(agg(f, "d", {"p.x-1"}, base_ - kHourMs, base_ + kDayMs, kHourMs, Aggregate::kSum)),
            (std::vector<Point>{{base_, 114}, {base_ + 3 * kHourMs, 1000}}));
  EXPECT_EQ(only(agg(f, "d", {"p.x-1"}, base_, base_ + 2 * kDayMs, kDayMs, Aggregate::kCount)),
            (std::vector<Point>{{base_, 8}}));
}

// Local calendar days: the answer's buckets start at local midnight, in UTC milliseconds.
TEST_P(TelemetryStoreConformance, DayBucketsFollowBerlinDaylightSavingTime) {
  auto f = factory("berlin");
  const std::string tz = "Europe/Berlin";
  {
    // Spring forward: the local day D lasts 23 h, [D-1 23:00Z, D 22:00Z).
    const std::int64_t d = detail::recent_change_day(3) * kDayMs;
    const std::int64_t start_prev = d - 2 * kDayMs + 23 * kHourMs, start = d - kHourMs,
                       start_next = d + 22 * kHourMs, start_after = d + kDayMs + 22 * kHourMs;
    write({batch(f, "m",
                 {Reading{start - 1, {Field{"e", 1}}}, Reading{start, {Field{"e", 2}}},
                  Reading{d + kHourMs, {Field{"e", 4}}}, Reading{start_next - 1, {Field{"e", 8}}},
                  Reading{start_next, {Field{"e", 16}}}})});
    EXPECT_EQ(only(agg(f, "m", {"e"}, start_prev, start_after, kDayMs, Aggregate::kSum, tz)),
              (std::vector<Point>{{start_prev, 1}, {start, 14}, {start_next, 16}}));
    EXPECT_EQ(only(agg(f, "m", {"e"}, start_prev, start_after, kDayMs, Aggregate::kCount, tz)),
              (std::vector<Point>{{start_prev, 1}, {start, 3}, {start_next, 1}}));
  }
  {
    // Fall back: the local day D lasts 25 h, [D-1 22:00Z, D 23:00Z); 02:30 happens twice.
    const std::int64_t d = detail::recent_change_day(10) * kDayMs;
    const std::int64_t start_prev = d - 2 * kDayMs + 22 * kHourMs, start = d - 2 * kHourMs,
                       start_next = d + 23 * kHourMs, start_after = d + kDayMs + 23 * kHourMs;
    write({batch(f, "m",
                 {Reading{start - 1, {Field{"e", 1}}}, Reading{start, {Field{"e", 2}}},
                  Reading{d + 30 * kMinuteMs, {Field{"e", 4}}}, Reading{d + 90 * kMinuteMs, {Field{"e", 8}}},
                  Reading{start_next - 1, {Field{"e", 16}}}, Reading{start_next, {Field{"e", 32}}}})});
    EXPECT_EQ(only(agg(f, "m", {"e"}, start_prev, start_after, kDayMs, Aggregate::kSum, tz)),
              (std::vector<Point>{{start_prev, 1}, {start, 30}, {start_next, 32}}));
    EXPECT_EQ(only(agg(f, "m", {"e"}, start, start_next, kDayMs, Aggregate::kMax, tz)),
              (std::vector<Point>{{start, 16}}));
    // Unaligned from: rounded down to the local midnight that starts its day.
    EXPECT_EQ(only(agg(f, "m", {"e"}, start + 3 * kHourMs, start_after, kDayMs, Aggregate::kCount, tz)),
              (std::vector<Point>{{start, 2}, {start_next, 1}}));
  }
}

TEST_P(TelemetryStoreConformance, DayBucketsInAHalfHourZone) {
  auto f = factory("kolkata");
  // Kolkata is UTC+05:30 all year: local midnight is 18:30Z of the previous UTC day.
  const std::int64_t start = base_ - 5 * kHourMs - 30 * kMinuteMs;
  write({batch(f, "m",
               {Reading{start - 1, {Field{"e", 1}}}, Reading{start, {Field{"e", 2}}},
                Reading{start + kDayMs - 1, {Field{"e", 4}}}, Reading{start + kDayMs, {Field{"e", 8}}}})});
  EXPECT_EQ(
      only(agg(f, "m", {"e"}, start - kDayMs, start + 2 * kDayMs, kDayMs, Aggregate::kSum, "Asia/Kolkata")),
      (std::vector<Point>{{start - kDayMs, 1}, {start, 6}, {start + kDayMs, 8}}));
  // The same points in UTC days.
  EXPECT_EQ(only(agg(f, "m", {"e"}, base_ - kDayMs, base_ + kDayMs, kDayMs, Aggregate::kSum, "UTC")),
            (std::vector<Point>{{base_ - kDayMs, 3}, {base_, 12}}));
}

// A day already compacted (flush) follows late points and overwrites like any other: in the
// factory's own zone, on a 23-hour DST day and on a +05:30 day.
TEST_P(TelemetryStoreConformance, CompactedDaysFollowLatePointsAndOverwrites) {
  const std::int64_t d = detail::recent_change_day(3) * kDayMs;
  for (const std::string prefix : {"berlin", "kolkata"}) {
    auto f = factory(prefix);
    const std::string tz = conformance_timezone_of(f);
    // Berlin's spring-forward day [D-1 23:00Z, D 22:00Z); the Kolkata day from D-1 18:30Z.
    const std::int64_t start = prefix == "berlin" ? d - kHourMs : d - 5 * kHourMs - 30 * kMinuteMs;
    const std::int64_t next = prefix == "berlin" ? d + 22 * kHourMs : start + kDayMs;
    write({batch(f, "m",
                 {Reading{start + 2 * kHourMs, {Field{"e", 2}}},
                  Reading{start + 5 * kHourMs, {Field{"e", 4}}}, Reading{next, {Field{"e", 100}}}})});
    store_->flush();
    EXPECT_EQ(only(agg(f, "m", {"e"}, start, next + kHourMs, kDayMs, Aggregate::kSum, tz)),
              (std::vector<Point>{{start, 6}, {next, 100}}))
        << tz;
    // Late: a point earlier than the day's first, and a new value for its last.
    write({batch(f, "m", {Reading{start + 5 * kHourMs, {Field{"e", 40}}}, Reading{start, {Field{"e", 1}}}})});
    for (bool flushed : {false, true}) {
      if (flushed) store_->flush();
      const std::string when = tz + (flushed ? ", flushed" : ", not flushed");
      EXPECT_EQ(only(agg(f, "m", {"e"}, start, next + kHourMs, kDayMs, Aggregate::kSum, tz)),
                (std::vector<Point>{{start, 43}, {next, 100}}))
          << when;
      EXPECT_EQ(only(agg(f, "m", {"e"}, start, next, kDayMs, Aggregate::kFirst, tz)),
                (std::vector<Point>{{start, 1}}))
          << when;
      EXPECT_EQ(only(agg(f, "m", {"e"}, start, next, kDayMs, Aggregate::kLast, tz)),
                (std::vector<Point>{{start, 40}}))
          << when;
      EXPECT_EQ(only(agg(f, "m", {"e"}, start, next, kDayMs, Aggregate::kCount, tz)),
                (std::vector<Point>{{start, 3}}))
          << when;
    }
  }
}

TEST_P(TelemetryStoreConformance, LatestGivesTheNewestPointOfEachMetric) {
  auto f = factory("latest");
  write({batch(f, "d", {Reading{base_ + 5000, {Field{"b", 5}, Field{"a", 50}}}})});
  // Older points arriving later do not replace the newest.
  write({batch(f, "d", {Reading{base_ + 1000, {Field{"b", 1}, Field{"c", 7}}}})});
  write_one(f, "other", base_ + 9000, "a", 999);

  auto all = store_->latest(f, core::DeviceId("d"), {});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].metric, "a");
  EXPECT_EQ(all[0].ts_ms, base_ + 5000);
  EXPECT_EQ(all[0].value, 50);
  EXPECT_EQ(all[1].metric, "b");
  EXPECT_EQ(all[1].ts_ms, base_ + 5000);
  EXPECT_EQ(all[1].value, 5);
  EXPECT_EQ(all[2].metric, "c");
  EXPECT_EQ(all[2].ts_ms, base_ + 1000);
  EXPECT_EQ(all[2].value, 7);

  const std::vector<std::string> asked = {"c", "missing", "b"};
  auto some = store_->latest(f, core::DeviceId("d"), asked);
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[0].metric, "b");
  EXPECT_EQ(some[1].metric, "c");

  write_one(f, "d", base_ + 6000, "b", 6);
  auto after = store_->latest(f, core::DeviceId("d"), std::vector<std::string>{"b"});
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].ts_ms, base_ + 6000);
  EXPECT_EQ(after[0].value, 6);
  EXPECT_TRUE(store_->latest(f, core::DeviceId("nobody"), {}).empty());
}

TEST_P(TelemetryStoreConformance, FactoriesNeverSeeEachOthersPoints) {
  auto a = factory("iso-a");
  auto b = factory("iso-b");
  write({batch(a, "press",
               {Reading{base_, {Field{"p", 1}}}, Reading{base_ - 250 * kDayMs / 10, {Field{"p", 0}}}}),
         batch(b, "press", {Reading{base_, {Field{"p", 2}}}, Reading{base_ + 1000, {Field{"q", 3}}}})});
  EXPECT_EQ(only(raw(a, "press", {"p"}, base_, base_ + kMinuteMs)), (std::vector<Point>{{base_, 1}}));
  EXPECT_EQ(only(raw(b, "press", {"p"}, base_, base_ + kMinuteMs)), (std::vector<Point>{{base_, 2}}));
  EXPECT_TRUE(only(raw(a, "press", {"q"}, base_, base_ + kMinuteMs)).empty());
  EXPECT_EQ(only(agg(a, "press", {"p"}, base_, base_ + kDayMs, kDayMs, Aggregate::kSum)),
            (std::vector<Point>{{base_, 1}}));
  auto latest_a = store_->latest(a, core::DeviceId("press"), {});
  ASSERT_EQ(latest_a.size(), 1u);
  EXPECT_EQ(latest_a[0].value, 1);
  EXPECT_EQ(store_->usage(a).series, 1);
  EXPECT_EQ(store_->usage(b).series, 2);

  // Retention of one factory leaves the other's old points alone.
  store_->apply_retention(a, RetentionPolicy{183, 730}, detail::now_ms() + 200 * kDayMs);
  EXPECT_TRUE(only(raw(a, "press", {"p"}, base_ - kDayMs, base_ + kMinuteMs)).empty());
  EXPECT_EQ(only(raw(b, "press", {"p"}, base_, base_ + kMinuteMs)), (std::vector<Point>{{base_, 2}}));
}

TEST_P(TelemetryStoreConformance, UsageCountsDistinctDeviceMetricPairs) {
  auto f = factory("usage");
  EXPECT_EQ(store_->usage(f).series, 0);
  write({batch(f, "d1",
               {Reading{base_, {Field{"a", 1}, Field{"b", 2}}}, Reading{base_ + 1000, {Field{"a", 3}}}}),
         batch(f, "d2", {Reading{base_, {Field{"a", 1}}}})});
  auto usage = store_->usage(f);
  EXPECT_EQ(usage.series, 3);
  if (usage.bytes) {
    EXPECT_GE(*usage.bytes, 0);
  }
}

// Raw points expire after raw_days; rollups keep day aggregates until rollup_days.
TEST_P(TelemetryStoreConformance, RetentionDropsExpiredRawPointsThenExpiredRollups) {
  auto f = factory("ret");
  const std::int64_t now = detail::now_ms();
  const std::int64_t old_day = (now / kDayMs - 250) * kDayMs;
  const std::int64_t new_day = base_;
  write({batch(f, "d",
               {Reading{old_day + kHourMs, {Field{"p", 1}}}, Reading{old_day + 2 * kHourMs, {Field{"p", 2}}},
                Reading{new_day + kHourMs, {Field{"p", 5}}}})});
  const RetentionPolicy policy{183, 730};

  store_->apply_retention(f, policy, now);
  EXPECT_EQ(only(raw(f, "d", {"p"}, old_day, now)), (std::vector<Point>{{new_day + kHourMs, 5}}));
  // The old day is gone from raw but its day rollup remains.
  EXPECT_EQ(only(agg(f, "d", {"p"}, old_day, new_day + kDayMs, kDayMs, Aggregate::kSum)),
            (std::vector<Point>{{old_day, 3}, {new_day, 5}}));
  EXPECT_EQ(only(agg(f, "d", {"p"}, old_day, new_day + kDayMs, kDayMs, Aggregate::kCount)),
            (std::vector<Point>{{old_day, 2}, {new_day, 1}}));

  // 600 days on: every raw point and the old day's rollup are past their retention.
  store_->apply_retention(f, policy, now + 600 * kDayMs);
  EXPECT_TRUE(only(raw(f, "d", {"p"}, old_day, now)).empty());
  EXPECT_EQ(only(agg(f, "d", {"p"}, old_day, new_day + kDayMs, kDayMs, Aggregate::kSum)),
            (std::vector<Point>{{new_day, 5}}));
}

TEST_P(TelemetryStoreConformance, BadQueriesAreInvalid) {
  auto f = factory("bad");
  write_one(f, "d", base_, "p", 1);
  EXPECT_THROW(raw(f, "d", {"p"}, base_, base_), core::Invalid);
  EXPECT_THROW(raw(f, "d", {"p"}, base_ + 1, base_), core::Invalid);
  EXPECT_THROW(raw(f, "d", {}, base_, base_ + 1000), core::Invalid);
  EXPECT_THROW(agg(f, "d", {"p"}, base_, base_, kMinuteMs, Aggregate::kAvg), core::Invalid);
  EXPECT_THROW(agg(f, "d", {}, base_, base_ + kDayMs, kMinuteMs, Aggregate::kAvg), core::Invalid);
  EXPECT_THROW(agg(f, "d", {"p"}, base_, base_ + kDayMs, 7 * kMinuteMs, Aggregate::kAvg), core::Invalid);
  EXPECT_THROW(agg(f, "d", {"p"}, base_, base_ + kDayMs, 0, Aggregate::kAvg), core::Invalid);
  EXPECT_THROW(agg(f, "d", {"p"}, base_, base_ + 3 * kDayMs, 2 * kDayMs, Aggregate::kAvg), core::Invalid);
  EXPECT_THROW(agg(f, "d", {"p"}, base_, base_ + kDayMs, kDayMs, Aggregate::kAvg, "Mars/Olympus_Mons"),
               core::Invalid);
  // The valid neighbours of those queries answer.
  EXPECT_EQ(only(agg(f, "d", {"p"}, base_, base_ + kDayMs, 8 * kMinuteMs, Aggregate::kAvg)),
            (std::vector<Point>{{base_, 1}}));
}

TEST_P(TelemetryStoreConformance, WrittenPointsSurviveReopening) {
  ASSERT_TRUE(GetParam().reopen) << "the instantiation must provide reopen";
  auto f = factory("reopen");
  write({batch(f, "d", {Reading{base_, {Field{"p", 1.5}}}, Reading{base_ + 1000, {Field{"p", 2.5}}}})});
  store_.reset();
  store_ = GetParam().reopen();
  ASSERT_TRUE(store_);
  EXPECT_EQ(only(raw(f, "d", {"p"}, base_, base_ + kMinuteMs)),
            (std::vector<Point>{{base_, 1.5}, {base_ + 1000, 2.5}}));
  EXPECT_EQ(only(agg(f, "d", {"p"}, base_, base_ + kDayMs, kHourMs, Aggregate::kSum)),
            (std::vector<Point>{{base_, 4}}));
  auto latest = store_->latest(f, core::DeviceId("d"), {});
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].ts_ms, base_ + 1000);
}

}  // namespace factoryops::tsdb::conformance
