#include "rules/backtest.hpp"

#include <gtest/gtest.h>

#include "unit/rules/rule_test_support.hpp"

namespace factoryops::rules {
namespace {
using namespace testing;

// 24 hours of one reading a minute at 50 kW, with excursions to 80 kW at the given
// (start minute, length in minutes).
tsdb::Series power_day(std::int64_t from, const std::vector<std::pair<int, int>>& excursions) {
  tsdb::Series series{"power_kw", {}};
  for (int m = 0; m < 24 * 60; ++m) {
    double value = 50;
    for (const auto& [start, length] : excursions) {
      if (m >= start && m < start + length) value = 80;
    }
    series.points.push_back(tsdb::Point{from + m * kMinute, value});
  }
  return series;
}

const char* kCompressor = R"({"name":"Compressor power high","severity":"critical",
    "conditions":[{"kind":"threshold","parameter":"power_kw","op":">","threshold":75}],
    "duration_seconds":300,"clear_after_seconds":120})";

TEST(Backtest, CountsEpisodesLongerThanTheDuration) {
  const std::int64_t from = kT0;
  const std::int64_t to = from + 24 * kHour;
  std::vector<BacktestDevice> devices = {
      // Three 10-minute excursions fire; a 3-minute one is shorter than 5 minutes and does not.
      {DeviceProfile{"comp-1", "compressor", "L1"},
       {power_day(from, {{60, 10}, {300, 3}, {600, 10}, {1430, 10}})}},
      {DeviceProfile{"comp-2", "compressor", "L1"}, {power_day(from, {})}},
  };
  BacktestResult result = backtest(core::FactoryId("acme"), rule_from(0, kCompressor), devices, from, to);
  EXPECT_EQ(result.readings, 2U * 24 * 60);
  ASSERT_EQ(result.fired, 3U);
  ASSERT_EQ(result.episodes.size(), 3U);
  const Episode& first = result.episodes[0];
  EXPECT_EQ(first.device_id, "comp-1");
  EXPECT_EQ(first.started_at_ms, from + 60 * kMinute);
  EXPECT_EQ(first.fired_at_ms, from + 65 * kMinute);
  // Back to 50 at minute 70; false for 120 s clears at minute 72.
  ASSERT_TRUE(first.cleared_at_ms.has_value());
  EXPECT_EQ(*first.cleared_at_ms, from + 72 * kMinute);
  EXPECT_EQ(first.value, 80);
  EXPECT_EQ(first.threshold, 75);
  EXPECT_EQ(result.episodes[1].started_at_ms, from + 600 * kMinute);
  // The last excursion runs to the end of the range: still firing.
  EXPECT_EQ(result.episodes[2].started_at_ms, from + 1430 * kMinute);
  EXPECT_FALSE(result.episodes[2].cleared_at_ms.has_value());
}

TEST(Backtest, RespectsScopeAndRange) {
  const std::int64_t from = kT0;
  Rule rule = rule_from(9, kCompressor);
  rule.scope.kind = ScopeKind::line;
  rule.scope.line = "L2";
  rule.enabled = false;  // a disabled rule can be tried out before it is switched on
  std::vector<BacktestDevice> devices = {
      {DeviceProfile{"on-l1", "compressor", "L1"}, {power_day(from, {{60, 10}})}},
      {DeviceProfile{"on-l2", "compressor", "L2"}, {power_day(from, {{60, 10}, {900, 10}})}},
  };
  BacktestResult all_day = backtest(core::FactoryId("acme"), rule, devices, from, from + 24 * kHour);
  EXPECT_EQ(all_day.fired, 2U);
  for (const auto& episode : all_day.episodes) EXPECT_EQ(episode.device_id, "on-l2");
  BacktestResult morning = backtest(core::FactoryId("acme"), rule, devices, from, from + 12 * kHour);
  EXPECT_EQ(morning.fired, 1U);
}

TEST(Backtest, NoDataEpisodesFromReplayedTicks) {
  const std::int64_t from = kT0;
  tsdb::Series series{"power_kw", {}};
  for (int m = 0; m < 24 * 60; ++m) {
    if (m >= 100 && m < 130) continue;  // a 30-minute gap
    series.points.push_back(tsdb::Point{from + m * kMinute, 50});
  }
  std::vector<BacktestDevice> devices = {{DeviceProfile{"m", "", ""}, {series}}};
  Rule rule = rule_from(1, R"({"name":"silent","severity":"warning","clear_after_seconds":0,
      "conditions":[{"kind":"no_data","parameter":"power_kw","minutes":10}]})");
  BacktestResult result = backtest(core::FactoryId("acme"), rule, devices, from, from + 24 * kHour);
  ASSERT_EQ(result.fired, 1U);
  EXPECT_EQ(result.episodes[0].started_at_ms, from + 109 * kMinute);  // last point at minute 99
  EXPECT_EQ(*result.episodes[0].cleared_at_ms, from + 130 * kMinute);
}

}  // namespace
}  // namespace factoryops::rules
