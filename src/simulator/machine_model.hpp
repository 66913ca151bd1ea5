// A deterministic model of one metered machine for the simulator and benchmarks: power follows
// three shifts a day and a weekday/weekend pattern with noise and occasional spikes; energy_kwh
// integrates power (and resets now and then, as real meters do); per-phase voltage and current,
// power factor, frequency, temperature and a production counter follow from it; one extra key
// appears after a while, to show parameter discovery. Values carry the fixed decimals meters
// report (230.2 V, 0.912 PF). Not thread-safe: one model per machine, one thread at a time.
#pragma once

#include <cstdint>

#include "tsdb/store.hpp"

namespace factoryops::simulator {

struct MachineProfile {
  double rated_kw = 45.0;                   // full-load power
  double idle_fraction = 0.08;              // of rated power, when nobody works
  std::int64_t new_key_after_ms = 300'000;  // "vibration_mm_s" starts this long after the first sample
  double spike_probability = 0.002;         // per sample
  double resets_per_day = 0.3;              // energy counter resets
  int utc_offset_minutes = 0;               // the factory's local time, for shifts and weekends
};

class MachineModel {
 public:
  // The same seed and the same sequence of times give the same readings.
  MachineModel(std::uint64_t seed, const MachineProfile& profile);

  // The machine's reading at `ts_ms`; times must not go backwards.
  tsdb::Reading sample(std::int64_t ts_ms);

  // The load (0..1 of rated power, before noise) the shift pattern asks for at `ts_ms`.
  double planned_load(std::int64_t ts_ms) const;

  const MachineProfile& profile() const { return profile_; }

 private:
  double uniform();   // [0, 1)
  double gaussian();  // mean 0, deviation 1

  MachineProfile profile_;
  std::uint64_t state_;
  std::int64_t first_ts_ms_ = -1;
  std::int64_t last_ts_ms_ = -1;
  double energy_kwh_ = 0;
  double temperature_c_ = 24.0;
  double production_ = 0;
};

}  // namespace factoryops::simulator
