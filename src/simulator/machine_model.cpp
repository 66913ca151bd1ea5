#include "simulator/machine_model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace factoryops::simulator {
namespace {

double round_to(double value, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

MachineModel::MachineModel(std::uint64_t seed, const MachineProfile& profile)
    : profile_(profile), state_(seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL) {
  // The counter starts somewhere plausible, not at zero, like a meter that has run for a while.
  energy_kwh_ = round_to(uniform() * 50'000.0, 3);
  production_ = std::floor(uniform() * 100'000.0);
}

double MachineModel::uniform() {
  // splitmix64: small, fast and the same on every platform (std distributions are not).
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

double MachineModel::gaussian() {
  double u1 = std::max(uniform(), 1e-12);
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double MachineModel::planned_load(std::int64_t ts_ms) const {
  std::int64_t local_ms = ts_ms + static_cast<std::int64_t>(profile_.utc_offset_minutes) * tsdb::kMinuteMs;
  std::int64_t day = floor_div(local_ms, tsdb::kDayMs);
  std::int64_t minute_of_day = (local_ms - day * tsdb::kDayMs) / tsdb::kMinuteMs;
  // 1970-01-01 was a Thursday: weekday 0 = Monday.
  int weekday = static_cast<int>(((day % 7) + 7 + 3) % 7);
  bool saturday = weekday == 5;
  bool sunday = weekday == 6;
  double hour = static_cast<double>(minute_of_day) / 60.0;
  double load = profile_.idle_fraction;
  if (!saturday && !sunday) {
    if (hour >= 6 && hour < 14) {
      load = 0.95;
    } else if (hour >= 14 && hour < 22) {
      load = 0.8;
    } else {
      load = 0.45;  // the night shift runs a reduced line
    }
    // Shift changes and the lunch break: a short dip.
    for (double change : {6.0, 14.0, 22.0, 10.0}) {
      if (hour >= change && hour < change + 0.33) load = std::min(load, 0.3);
    }
  } else if (saturday && hour >= 6 && hour < 14) {
    load = 0.5;
  }
  return load;
}

tsdb::Reading MachineModel::sample(std::int64_t ts_ms) {
  if (first_ts_ms_ < 0) first_ts_ms_ = ts_ms;
  double dt_h =
      last_ts_ms_ < 0 ? 0.0 : static_cast<double>(std::max<std::int64_t>(0, ts_ms - last_ts_ms_)) / 3.6e6;
  last_ts_ms_ = ts_ms;

  double load = planned_load(ts_ms);
  double noisy = std::clamp(load * (1.0 + 0.03 * gaussian()), 0.0, 1.2);
  if (uniform() < profile_.spike_probability) noisy *= 1.6;  // a motor start, a jam
  double power_kw = round_to(profile_.rated_kw * noisy, 2);

  energy_kwh_ += power_kw * dt_h;
  // A reset happens `resets_per_day` times a day on average (a meter swap, a firmware update).
  if (dt_h > 0 && uniform() < profile_.resets_per_day * dt_h / 24.0) energy_kwh_ = 0;

  double pf = std::clamp(0.78 + 0.15 * std::min(noisy, 1.0) + 0.005 * gaussian(), 0.5, 0.99);
  tsdb::Reading reading;
  reading.ts_ms = ts_ms;
  reading.fields.reserve(14);
  auto add = [&reading](const char* key, double value) { reading.fields.push_back(tsdb::Field{key, value}); };
  add("power_kw", power_kw);
  add("energy_kwh", round_to(energy_kwh_, 3));
  double voltages[3];
  for (int phase = 0; phase < 3; ++phase) voltages[phase] = round_to(230.0 + 1.5 * gaussian(), 1);
  add("voltage_l1", voltages[0]);
  add("voltage_l2", voltages[1]);
  add("voltage_l3", voltages[2]);
  for (int phase = 0; phase < 3; ++phase) {
    double current = power_kw * 1000.0 / (3.0 * voltages[phase] * pf) * (1.0 + 0.02 * gaussian());
    static constexpr const char* kCurrents[] = {"current_l1", "current_l2", "current_l3"};
    add(kCurrents[phase], round_to(std::max(0.0, current), 2));
  }
  add("power_factor", round_to(pf, 3));
  add("frequency_hz", round_to(50.0 + 0.02 * gaussian(), 2));
  // Temperature follows load with a lag of about 20 minutes.
  double target = 24.0 + 38.0 * std::min(noisy, 1.0);
  double alpha = 1.0 - std::exp(-dt_h * 3.0);
  temperature_c_ += (target - temperature_c_) * alpha + 0.05 * gaussian();
  add("temperature_c", round_to(temperature_c_, 1));
  // About 2 parts a minute at full load.
  production_ += dt_h * 60.0 * 2.0 * std::min(noisy, 1.0);
  add("production_count", std::floor(production_));
  if (ts_ms - first_ts_ms_ >= profile_.new_key_after_ms) {
    add("vibration_mm_s", round_to(std::max(0.0, 1.2 + 2.5 * std::min(noisy, 1.0) + 0.3 * gaussian()), 2));
  }
  return reading;
}

}  // namespace factoryops::simulator
