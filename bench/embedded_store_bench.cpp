// Embedded telemetry engine: write rate (20 devices x 10 metrics at 1 Hz, 100 readings per
// device per call, write-ahead log and compaction included), bytes per value on disk after
// flush, and query latencies over 30 days of 1 Hz data.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "tsdb/store.hpp"

namespace {

using namespace factoryops;
namespace fs = std::filesystem;

constexpr std::int64_t kStart = 1'780'272'000'000;  // 2026-06-01T00:00:00Z
constexpr int kDevices = 20;
constexpr int kMetrics = 10;
const char* const kMetricNames[kMetrics] = {"voltage_l1",   "voltage_l2", "current",   "power_kw",
                                            "power_factor", "energy_kwh", "frequency", "temperature",
                                            "state",        "alarms"};

fs::path temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "tsdb-bench-XXXXXX").string();
  return ::mkdtemp(pattern.data());
}

// Realistic meter readings: noisy voltages with one decimal, power factor with three, power in
// kW with three, a slowly increasing energy counter, integer states.
class Meter {
 public:
  explicit Meter(std::uint64_t seed) : rng_(seed) {}
  void fill(std::vector<tsdb::Field>& fields) {
    fields.resize(kMetrics);
    for (int m = 0; m < kMetrics; ++m) fields[static_cast<std::size_t>(m)].key = kMetricNames[m];
    power_ = std::clamp(power_ + noise_(rng_) * 0.05, 5.0, 50.0);
    energy_ += power_ / 3600.0;
    fields[0].value = round_to(230.0 + noise_(rng_) * 0.6, 1);
    fields[1].value = round_to(229.5 + noise_(rng_) * 0.6, 1);
    fields[2].value = round_to(power_ * 1000 / 230.0 / 3, 2);
    fields[3].value = round_to(power_, 3);
    fields[4].value = round_to(0.91 + noise_(rng_) * 0.005, 3);
    fields[5].value = round_to(energy_, 3);
    fields[6].value = round_to(50.0 + noise_(rng_) * 0.01, 2);
    fields[7].value = round_to(41.0 + noise_(rng_) * 0.1, 1);
    fields[8].value = 1;
    fields[9].value = (rng_() % 5000 == 0) ? 1 : 0;
  }

 private:
  static double round_to(double v, int decimals) {
    double f = std::pow(10.0, decimals);
    return std::round(v * f) / f;
  }
  std::mt19937_64 rng_;
  std::normal_distribution<double> noise_{0, 1};
  double power_ = 20;
  double energy_ = 123456.0;
};

// Writes `seconds` of data for every device, 100 readings per device per call.
void write_span(tsdb::TelemetryStore& store, std::vector<Meter>& meters, std::int64_t from_s,
                std::int64_t seconds, int devices) {
  std::vector<tsdb::DeviceBatch> batch(1,
                                       tsdb::DeviceBatch{core::FactoryId("acme"), core::DeviceId("d0"), {}});
  for (std::int64_t s = 0; s < seconds; s += 100) {
    for (int d = 0; d < devices; ++d) {
      batch[0].device = core::DeviceId("d" + std::to_string(d));
      auto& readings = batch[0].readings;
      readings.resize(static_cast<std::size_t>(std::min<std::int64_t>(100, seconds - s)));
      for (std::size_t i = 0; i < readings.size(); ++i) {
        readings[i].ts_ms = kStart + (from_s + s + static_cast<std::int64_t>(i)) * 1000;
        meters[static_cast<std::size_t>(d)].fill(readings[i].fields);
      }
      store.write(batch);
    }
  }
}

void BM_WriteAndFlush(benchmark::State& state) {
  fs::path dir = temp_dir();
  tsdb::EmbeddedOptions options;
  options.directory = dir;
  options.timezone_of = [](const core::FactoryId&) { return std::string("Europe/Berlin"); };
  options.sync_on_write = state.range(1) != 0;
  auto store = tsdb::open_embedded_store(options);
  std::vector<Meter> meters;
  for (int d = 0; d < kDevices; ++d) meters.emplace_back(static_cast<std::uint64_t>(d));
  const std::int64_t seconds = state.range(0);
  std::int64_t written = 0;
  std::int64_t offset = 0;
  for (auto _ : state) {
    write_span(*store, meters, offset, seconds, kDevices);
    store->flush();
    offset += seconds;
    written += seconds * kDevices * kMetrics;
  }
  state.SetItemsProcessed(written);
  auto usage = store->usage(core::FactoryId("acme"));
  state.counters["bytes_per_value"] =
      static_cast<double>(usage.bytes.value_or(0)) / static_cast<double>(written);
  store.reset();
  fs::remove_all(dir);
}
// Arguments: seconds of data per iteration; fdatasync on every write call (0/1).
BENCHMARK(BM_WriteAndFlush)
    ->Args({3600, 0})
    ->Args({3600, 1})
    ->Iterations(6)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// 30 days at 1 Hz of one device with ten metrics (only two devices, to keep the set-up short), in a
// factory of Europe/Berlin, the zone of the daily query.
struct Loaded {
  fs::path dir;
  std::unique_ptr<tsdb::TelemetryStore> store;
  Loaded() : dir(temp_dir()) {
    tsdb::EmbeddedOptions options;
    options.directory = dir;
    options.timezone_of = [](const core::FactoryId&) { return std::string("Europe/Berlin"); };
    store = tsdb::open_embedded_store(options);
    std::vector<Meter> meters;
    meters.emplace_back(1);
    write_span(*store, meters, 0, 30 * 86400, 1);
    store->flush();
  }
  ~Loaded() {
    store.reset();
    fs::remove_all(dir);
  }
};

Loaded& loaded() {
  static Loaded instance;
  return instance;
}

void BM_Raw1Hour(benchmark::State& state) {
  auto& store = *loaded().store;
  tsdb::RawQuery q{core::FactoryId("acme"),
                   core::DeviceId("d0"),
                   {"voltage_l1"},
                   kStart + 12 * tsdb::kDayMs + 1800'000,
                   kStart + 12 * tsdb::kDayMs + 1800'000 + tsdb::kHourMs,
                   10'000};
  for (auto _ : state) benchmark::DoNotOptimize(store.read_raw(q));
}
BENCHMARK(BM_Raw1Hour)->Unit(benchmark::kMillisecond);

void BM_Hourly30Days(benchmark::State& state) {
  auto& store = *loaded().store;
  tsdb::AggregateQuery q{core::FactoryId("acme"),    core::DeviceId("d0"), {"power_kw"},          kStart,
                         kStart + 30 * tsdb::kDayMs, tsdb::kHourMs,        tsdb::Aggregate::kAvg, "UTC"};
  for (auto _ : state) benchmark::DoNotOptimize(store.read_aggregate(q));
}
BENCHMARK(BM_Hourly30Days)->Unit(benchmark::kMillisecond);

void BM_QuarterHourMax7Days10Series(benchmark::State& state) {
  auto& store = *loaded().store;
  tsdb::AggregateQuery q{core::FactoryId("acme"),
                         core::DeviceId("d0"),
                         {},
                         kStart + 20 * tsdb::kDayMs,
                         kStart + 27 * tsdb::kDayMs,
                         15 * tsdb::kMinuteMs,
                         tsdb::Aggregate::kMax,
                         "UTC"};
  for (const char* name : kMetricNames) q.metrics.emplace_back(name);
  for (auto _ : state) benchmark::DoNotOptimize(store.read_aggregate(q));
}
BENCHMARK(BM_QuarterHourMax7Days10Series)->Unit(benchmark::kMillisecond);

void BM_Daily30DaysBerlin(benchmark::State& state) {
  auto& store = *loaded().store;
  tsdb::AggregateQuery q{
      core::FactoryId("acme"),    core::DeviceId("d0"), {"energy_kwh"},         kStart,
      kStart + 30 * tsdb::kDayMs, tsdb::kDayMs,         tsdb::Aggregate::kLast, "Europe/Berlin"};
  for (auto _ : state) benchmark::DoNotOptimize(store.read_aggregate(q));
}
BENCHMARK(BM_Daily30DaysBerlin)->Unit(benchmark::kMillisecond);

}  // namespace
