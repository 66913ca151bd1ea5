// The simulated machine: repeatable, shaped by shifts and weekends, energy consistent with
// power, meter-like decimals, and a key that appears later.
#include "simulator/machine_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace factoryops::simulator {
namespace {

// Monday 2026-11-23 00:00:00 UTC.
constexpr std::int64_t kMonday = 1'795'392'000'000;

std::map<std::string, double> fields(const tsdb::Reading& r) {
  std::map<std::string, double> out;
  for (const auto& f : r.fields) out[f.key] = f.value;
  return out;
}

bool has_decimals(double value, int decimals) {
  double scaled = value * std::pow(10.0, decimals);
  return std::fabs(scaled - std::round(scaled)) < 1e-6;
}

TEST(MachineModel, SameSeedSameReadings) {
  MachineModel a(42, {});
  MachineModel b(42, {});
  MachineModel c(43, {});
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    auto ra = a.sample(kMonday + i * 1000);
    auto rb = b.sample(kMonday + i * 1000);
    auto rc = c.sample(kMonday + i * 1000);
    ASSERT_EQ(fields(ra), fields(rb));
    differs = differs || fields(ra) != fields(rc);
  }
  EXPECT_TRUE(differs);
}

TEST(MachineModel, LoadFollowsShiftsAndWeekends) {
  MachineModel m(1, {});
  const std::int64_t h = tsdb::kHourMs;
  EXPECT_GT(m.planned_load(kMonday + 9 * h), 0.9);                             // morning shift
  EXPECT_GT(m.planned_load(kMonday + 16 * h), 0.7);                            // afternoon shift
  EXPECT_LT(m.planned_load(kMonday + 3 * h), 0.5);                             // reduced night shift
  EXPECT_LT(m.planned_load(kMonday + 6 * h + 5 * tsdb::kMinuteMs), 0.31);      // shift change
  EXPECT_NEAR(m.planned_load(kMonday + 5 * tsdb::kDayMs + 9 * h), 0.5, 1e-9);  // Saturday morning
  EXPECT_LT(m.planned_load(kMonday + 6 * tsdb::kDayMs + 12 * h), 0.1);         // Sunday
  // Local time: at UTC+05:30, 04:00 UTC is 09:30 local.
  MachineModel india(1, {.utc_offset_minutes = 330});
  EXPECT_GT(india.planned_load(kMonday + 4 * h), 0.9);
}

TEST(MachineModel, EnergyIntegratesPowerAndValuesHaveMeterDecimals) {
  MachineProfile profile;
  profile.resets_per_day = 0;
  profile.spike_probability = 0;
  MachineModel m(7, profile);
  auto first = fields(m.sample(kMonday + 9 * tsdb::kHourMs));
  double integrated = 0;
  double energy = first["energy_kwh"];
  for (int i = 1; i <= 600; ++i) {
    auto f = fields(m.sample(kMonday + 9 * tsdb::kHourMs + i * 1000));
    integrated += f["power_kw"] / 3600.0;
    EXPECT_TRUE(has_decimals(f["voltage_l1"], 1)) << f["voltage_l1"];
    EXPECT_TRUE(has_decimals(f["power_factor"], 3)) << f["power_factor"];
    EXPECT_TRUE(has_decimals(f["current_l2"], 2)) << f["current_l2"];
    EXPECT_TRUE(has_decimals(f["power_kw"], 2));
    EXPECT_GT(f["voltage_l3"], 220);
    EXPECT_LT(f["voltage_l3"], 240);
    EXPECT_GT(f["power_factor"], 0.5);
    EXPECT_LE(f["power_factor"], 0.99);
    EXPECT_NEAR(f["frequency_hz"], 50.0, 0.2);
    energy = f["energy_kwh"];
  }
  EXPECT_NEAR(energy - first["energy_kwh"], integrated, 0.01);
  EXPECT_GT(integrated, 0.0);
}

TEST(MachineModel, CounterResetsNowAndThen) {
  MachineProfile profile;
  profile.resets_per_day = 24;  // about once an hour
  MachineModel m(3, profile);
  double previous = -1;
  int resets = 0;
  for (int i = 0; i < 6 * 60; ++i) {  // six hours, one reading a minute
    double e = fields(m.sample(kMonday + i * tsdb::kMinuteMs))["energy_kwh"];
    if (e < previous) ++resets;
    previous = e;
  }
  EXPECT_GE(resets, 1);
  EXPECT_LE(resets, 20);
}

TEST(MachineModel, ANewKeyAppearsLater) {
  MachineModel m(5, {.new_key_after_ms = 60'000});
  auto early = fields(m.sample(kMonday));
  EXPECT_EQ(early.count("vibration_mm_s"), 0u);
  EXPECT_EQ(early.size(), 12u);
  auto later = fields(m.sample(kMonday + 60'000));
  EXPECT_EQ(later.count("vibration_mm_s"), 1u);
}

}  // namespace
}  // namespace factoryops::simulator
