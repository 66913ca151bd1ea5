// The telemetry query rules of docs/api-telemetry.md: every parameter's validation, defaults,
// interval syntax, bucket counting (local calendar days across DST) and the auto ladder.
#include "tsdb/query_plan.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"

namespace factoryops::tsdb {
namespace {

constexpr std::int64_t kNow = 1'795'770'000'000;  // 2026-11-27T09:00:00Z

std::string invalid_field(const QueryText& text) {
  try {
    parse_query(text, kNow);
  } catch (const core::Invalid& e) {
    return e.field();
  }
  return "(accepted)";
}

TEST(QueryPlan, DefaultsAreTheLastHourAvgAutoAndAThousandPoints) {
  auto plan = parse_query({}, kNow);
  EXPECT_TRUE(plan.params.empty());
  EXPECT_EQ(plan.to_ms, kNow);
  EXPECT_EQ(plan.from_ms, kNow - kHourMs);
  EXPECT_EQ(plan.aggregate, Aggregate::kAvg);
  EXPECT_EQ(plan.mode, IntervalMode::kAuto);
  EXPECT_EQ(plan.max_points, 1000u);

  // Empty values, as a form sends them, take the defaults too.
  auto empty =
      parse_query({.params = "", .from = "", .to = "", .agg = "", .interval = "", .max_points = ""}, kNow);
  EXPECT_EQ(empty.from_ms, kNow - kHourMs);
  EXPECT_EQ(empty.mode, IntervalMode::kAuto);
}

TEST(QueryPlan, ParamsAreKeysInOrderWithoutDuplicates) {
  auto plan = parse_query({.params = "power_kw,l1.v,power_kw,temp-2"}, kNow);
  EXPECT_EQ(plan.params, (std::vector<std::string>{"power_kw", "l1.v", "temp-2"}));

  EXPECT_EQ(invalid_field({.params = "a,,b"}), "params");
  EXPECT_EQ(invalid_field({.params = "bad key"}), "params");
  EXPECT_EQ(invalid_field({.params = "a,b,"}), "params");
  EXPECT_EQ(invalid_field({.params = std::string(65, 'k')}), "params");
  EXPECT_EQ(invalid_field({.params = std::string(64, 'k')}), "(accepted)");

  std::string twenty, twenty_one;
  for (int i = 0; i < 21; ++i) {
    if (i < 20) twenty += (i ? ",k" : "k") + std::to_string(i);
    twenty_one += (i ? ",k" : "k") + std::to_string(i);
  }
  EXPECT_EQ(parse_query({.params = twenty}, kNow).params.size(), 20u);
  EXPECT_EQ(invalid_field({.params = twenty_one}), "params");
}

TEST(QueryPlan, TimesAreEpochMillisecondsOrRfc3339) {
  auto plan = parse_query({.from = "1795740000000", .to = "2026-11-27T08:00:00.500+05:30"}, kNow);
  EXPECT_EQ(plan.from_ms, 1'795'740'000'000);
  EXPECT_EQ(plan.to_ms, 1'795'746'600'500);  // 02:30:00.500Z
  EXPECT_EQ(*parse_time("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(*parse_time("1970-01-01T00:00:00.25Z"), 250);
  EXPECT_EQ(*parse_time("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_FALSE(parse_time("yesterday"));
  EXPECT_FALSE(parse_time("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_time("2026-11-27T10:00:00"));  // no zone
  EXPECT_FALSE(parse_time("-5"));

  EXPECT_EQ(invalid_field({.from = "soon"}), "from");
  EXPECT_EQ(invalid_field({.to = "2026-13-01T00:00:00Z"}), "to");
}

TEST(QueryPlan, OnlyOneEndGivenKeepsAnHourOrEndsNow) {
  auto only_to = parse_query({.to = "1000000000000"}, kNow);
  EXPECT_EQ(only_to.from_ms, 1'000'000'000'000 - kHourMs);
  auto only_from = parse_query({.from = "1795700000000"}, kNow);
  EXPECT_EQ(only_from.to_ms, kNow);
}

TEST(QueryPlan, FromBeforeToAndAtMostFiveYears) {
  EXPECT_EQ(invalid_field({.from = "2000", .to = "2000"}), "from");
  EXPECT_EQ(invalid_field({.from = "3000", .to = "2000"}), "from");
  const std::int64_t to = 1'800'000'000'000;
  EXPECT_EQ(invalid_field({.from = std::to_string(to - kMaxRangeMs), .to = std::to_string(to)}),
            "(accepted)");
  EXPECT_EQ(invalid_field({.from = std::to_string(to - kMaxRangeMs - 1), .to = std::to_string(to)}), "to");
  // Five calendar years with two leap days fit.
  EXPECT_EQ(invalid_field({.from = "2024-01-01T00:00:00Z", .to = "2029-01-01T00:00:00Z"}), "(accepted)");
}

TEST(QueryPlan, AggregatesByName) {
  for (std::string name : {"avg", "min", "max", "sum", "count", "first", "last"}) {
    auto plan = parse_query({.agg = name}, kNow);
    EXPECT_EQ(aggregate_name(plan.aggregate), name);
  }
  EXPECT_EQ(invalid_field({.agg = "median"}), "agg");
  EXPECT_EQ(invalid_field({.agg = "AVG"}), "agg");
}

TEST(QueryPlan, MaxPointsFromOneToTenThousand) {
  EXPECT_EQ(parse_query({.max_points = "1"}, kNow).max_points, 1u);
  EXPECT_EQ(parse_query({.max_points = "10000"}, kNow).max_points, 10000u);
  for (std::string bad : {"0", "10001", "-1", "12.5", "many", "1e3"}) {
    EXPECT_EQ(invalid_field({.max_points = bad}), "max_points") << bad;
  }
}

TEST(QueryPlan, IntervalsDivideADayOrAreCalendarDays) {
  EXPECT_EQ(parse_query({.interval = "auto"}, kNow).mode, IntervalMode::kAuto);
  EXPECT_EQ(parse_query({.interval = "raw"}, kNow).mode, IntervalMode::kRaw);
  auto fixed = parse_query({.interval = "15m"}, kNow);
  EXPECT_EQ(fixed.mode, IntervalMode::kFixed);
  EXPECT_EQ(fixed.interval_ms, 15 * kMinuteMs);

  EXPECT_EQ(*parse_interval_ms("10s"), 10'000);
  EXPECT_EQ(*parse_interval_ms("1s"), 1'000);
  EXPECT_EQ(*parse_interval_ms("90s"), 90'000);
  EXPECT_EQ(*parse_interval_ms("6h"), 6 * kHourMs);
  EXPECT_EQ(*parse_interval_ms("12h"), 12 * kHourMs);
  EXPECT_EQ(*parse_interval_ms("1d"), kDayMs);
  for (std::string bad : {"7s", "7m", "5h", "24h", "48h", "2d", "0m", "m", "1w", "1.5h", "-1m", "1M", ""}) {
    EXPECT_FALSE(parse_interval_ms(bad)) << bad;
  }
  EXPECT_EQ(invalid_field({.interval = "7m"}), "interval");
  EXPECT_EQ(invalid_field({.interval = "weekly"}), "interval");

  for (std::int64_t ms : kAutoLadderMs) EXPECT_EQ(*parse_interval_ms(interval_name(ms)), ms);
  EXPECT_EQ(interval_name(90'000), "90s");
  EXPECT_EQ(interval_name(kDayMs), "1d");
}

TEST(QueryPlan, SubDayBucketsAlignToUtc) {
  // [00:00:30, 00:02:00) in 1m buckets: the buckets starting 00:00 and 00:01.
  EXPECT_EQ(bucket_count(30'000, 120'000, kMinuteMs, "UTC"), 2);
  EXPECT_EQ(bucket_count(0, 120'000, kMinuteMs, "UTC"), 2);
  EXPECT_EQ(bucket_count(0, 120'001, kMinuteMs, "UTC"), 3);
  EXPECT_EQ(bucket_count(0, kDayMs, kHourMs, "Asia/Kolkata"), 24);  // zone plays no part below a day
}

// Europe/Berlin: 2026-03-29 has 23 hours (02:00 -> 03:00), 2026-10-25 has 25 (03:00 -> 02:00).
constexpr std::int64_t kBerlinMar29 = 1'774'738'800'000;  // 2026-03-29T00:00+01:00
constexpr std::int64_t kBerlinOct25 = 1'792'879'200'000;  // 2026-10-25T00:00+02:00

TEST(QueryPlan, DayBucketsCountLocalCalendarDaysAcrossDst) {
  ASSERT_EQ(*parse_time("2026-03-29T00:00:00+01:00"), kBerlinMar29);
  ASSERT_EQ(*parse_time("2026-10-25T00:00:00+02:00"), kBerlinOct25);
  // The 23-hour day: 24 hours from its midnight reach 01:00 of the next day, a second bucket.
  EXPECT_EQ(bucket_count(kBerlinMar29, kBerlinMar29 + 23 * kHourMs, kDayMs, "Europe/Berlin"), 1);
  EXPECT_EQ(bucket_count(kBerlinMar29, kBerlinMar29 + 24 * kHourMs, kDayMs, "Europe/Berlin"), 2);
  // The 25-hour day: 24 hours from its midnight stay inside it.
  EXPECT_EQ(bucket_count(kBerlinOct25, kBerlinOct25 + 24 * kHourMs, kDayMs, "Europe/Berlin"), 1);
  EXPECT_EQ(bucket_count(kBerlinOct25, kBerlinOct25 + 25 * kHourMs, kDayMs, "Europe/Berlin"), 1);
  EXPECT_EQ(bucket_count(kBerlinOct25, kBerlinOct25 + 25 * kHourMs + 1, kDayMs, "Europe/Berlin"), 2);
  // The same instants in UTC: days start an hour or two later, so the count differs.
  EXPECT_EQ(bucket_count(kBerlinMar29, kBerlinMar29 + 23 * kHourMs, kDayMs, "UTC"), 2);
  // A week across the spring change: seven local days.
  EXPECT_EQ(
      bucket_count(kBerlinMar29 - 3 * kDayMs, kBerlinMar29 + 4 * kDayMs - kHourMs, kDayMs, "Europe/Berlin"),
      7);
  // A start inside a day rounds down to its midnight: 23:00 to 01:00 local spans two days.
  EXPECT_EQ(bucket_count(kBerlinMar29 - kHourMs, kBerlinMar29 + kHourMs, kDayMs, "Europe/Berlin"), 2);
  // An unknown zone counts as UTC rather than failing the query.
  EXPECT_EQ(bucket_count(0, kDayMs, kDayMs, "Nowhere/Atlantis"), 1);
}

TEST(QueryPlan, AutoPicksTheFinestLadderStepWithinMaxPoints) {
  const std::int64_t from = 1'795'737'600'000;                           // 2026-11-27T00:00:00Z
  EXPECT_EQ(*auto_interval(from, from + kHourMs, 1000, "UTC"), 10'000);  // 360 buckets
  EXPECT_EQ(*auto_interval(from, from + kHourMs, 360, "UTC"), 10'000);
  EXPECT_EQ(*auto_interval(from, from + kHourMs, 359, "UTC"), 30'000);         // 120
  EXPECT_EQ(*auto_interval(from, from + kHourMs, 100, "UTC"), kMinuteMs);      // 60
  EXPECT_EQ(*auto_interval(from, from + kDayMs, 1000, "UTC"), 5 * kMinuteMs);  // 288
  EXPECT_EQ(*auto_interval(from, from + kDayMs, 96, "UTC"), 15 * kMinuteMs);
  EXPECT_EQ(*auto_interval(from, from + kDayMs, 48, "UTC"), 30 * kMinuteMs);
  EXPECT_EQ(*auto_interval(from, from + 7 * kDayMs, 200, "UTC"), kHourMs);       // 168
  EXPECT_EQ(*auto_interval(from, from + 30 * kDayMs, 300, "UTC"), 3 * kHourMs);  // 240
  EXPECT_EQ(*auto_interval(from, from + 30 * kDayMs, 120, "UTC"), 6 * kHourMs);
  EXPECT_EQ(*auto_interval(from, from + 30 * kDayMs, 60, "UTC"), 12 * kHourMs);
  EXPECT_EQ(*auto_interval(from, from + 365 * kDayMs, 1000, "UTC"), 12 * kHourMs);  // 730
  EXPECT_EQ(*auto_interval(from, from + 365 * kDayMs, 729, "UTC"), kDayMs);
  EXPECT_FALSE(auto_interval(from, from + 365 * kDayMs, 364, "UTC"));
  // A range not aligned to buckets needs one more.
  EXPECT_EQ(*auto_interval(from + 5'000, from + 5'000 + kHourMs, 360, "UTC"), 30'000);
}

TEST(QueryPlan, ExplicitIntervalOverMaxPointsNamesMaxPoints) {
  const std::int64_t from = 1'795'737'600'000;
  EXPECT_NO_THROW(check_bucket_count(from, from + kDayMs, kMinuteMs, 1440, "UTC"));
  try {
    check_bucket_count(from, from + kDayMs, kMinuteMs, 1000, "UTC");
    FAIL() << "1440 buckets accepted under max_points=1000";
  } catch (const core::Invalid& e) {
    EXPECT_EQ(e.field(), "max_points");
    EXPECT_NE(std::string(e.what()).find("1440"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("coarser interval"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace factoryops::tsdb
