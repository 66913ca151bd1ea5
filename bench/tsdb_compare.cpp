// Telemetry storage benchmark: one simulated day of meter data (20 devices x 10 metrics at 1 Hz,
// 17.28 M values, fixed decimals with noise, deterministic seed) loaded into the embedded engine
// and into InfluxDB in the same run; prints write rate, bytes per value on disk, and the median
// latency of four typical queries, then the ratios embedded/InfluxDB. Not a pass/fail test.
//
//   tsdb_compare [--engines embedded,influxdb] [--influx-url influxdb://127.0.0.1:PORT/db]
//                [--influx-data-dir DIR] [--embedded-dir DIR]
//   BENCH_TSDB_HOURS (24)  BENCH_TSDB_DEVICES (20)  BENCH_TSDB_LONG_DAYS (30)  BENCH_TSDB_ROUNDS (20)
//   BENCH_TSDB_YEAR_DAYS (365)  BENCH_TSDB_ZONE (Europe/Berlin: the factory's zone, for day buckets)
//
// bench/tsdb.sh starts a throw-away influxd and passes its URL and data directory.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "core/ids.hpp"
#include "tsdb/store.hpp"

namespace fs = std::filesystem;
using factoryops::core::DeviceId;
using factoryops::core::FactoryId;
namespace tsdb = factoryops::tsdb;

namespace {

constexpr int kMetrics = 10;
const char* const kMetricNames[kMetrics] = {
    "voltage_l1_v", "voltage_l2_v", "current_l1_a",  "current_l2_a", "power_kw",
    "power_factor", "frequency_hz", "temperature_c", "energy_kwh",   "production_count"};

struct Settings {
  std::vector<std::string> engines = {"embedded", "influxdb"};
  std::string influx_url;
  fs::path influx_data_dir;
  fs::path embedded_dir;
  int hours = 24;
  int devices = 20;
  int long_days = 30;
  int rounds = 20;
  int year_days = 365;
  std::string zone = "Europe/Berlin";
};

// The year series has one reading every 10 s: daily buckets read rollups, so their cost does
// not depend on the rate, and the load stays short.
constexpr std::int64_t kYearStepSeconds = 10;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::max(1, std::atoi(v));
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double round_to(double value, double scale) {
  return std::round(value * scale) / scale;
}

// One meter: a machine whose load follows a slow cycle with noise, as a real feeder would.
class Meter {
 public:
  explicit Meter(std::uint64_t seed) : rng_(seed), phase_(std::uniform_real_distribution<>(0, 6.28)(rng_)) {}

  std::vector<tsdb::Field> next(std::int64_t second) {
    std::normal_distribution<> noise(0.0, 1.0);
    const double load =
        0.55 + 0.35 * std::sin(phase_ + static_cast<double>(second) / 5400.0) + 0.05 * noise(rng_);
    const double v1 = round_to(230.0 + 1.2 * noise(rng_), 10);
    const double v2 = round_to(229.6 + 1.2 * noise(rng_), 10);
    const double i1 = round_to(std::max(0.0, 60.0 * load + 0.4 * noise(rng_)), 100);
    const double i2 = round_to(std::max(0.0, 58.0 * load + 0.4 * noise(rng_)), 100);
    const double pf = round_to(std::clamp(0.93 + 0.02 * load + 0.004 * noise(rng_), 0.8, 1.0), 1000);
    const double kw = round_to(std::sqrt(3.0) * 400.0 * (i1 + i2) / 2.0 * pf / 1000.0, 1000);
    const double hz = round_to(50.0 + 0.03 * noise(rng_), 100);
    temperature_ += 0.002 * (40.0 + 25.0 * load - temperature_) + 0.02 * noise(rng_);
    energy_ += kw / 3600.0;
    if (std::uniform_real_distribution<>(0, 1)(rng_) < 0.25 * load) production_ += 1;
    return {{kMetricNames[0], v1},
            {kMetricNames[1], v2},
            {kMetricNames[2], i1},
            {kMetricNames[3], i2},
            {kMetricNames[4], kw},
            {kMetricNames[5], pf},
            {kMetricNames[6], hz},
            {kMetricNames[7], round_to(temperature_, 10)},
            {kMetricNames[8], round_to(energy_, 1000)},
            {kMetricNames[9], production_}};
  }

 private:
  std::mt19937_64 rng_;
  double phase_;
  double temperature_ = 35.0;
  double energy_ = 125'000.0;
  double production_ = 0;
};

std::int64_t directory_bytes(const fs::path& dir) {
  std::int64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += static_cast<std::int64_t>(it->file_size(ec));
  }
  return total;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median_ms(int rounds, const std::function<void()>& query) {
  query();  // warm-up
  std::vector<double> samples;
  for (int i = 0; i < rounds; ++i) {
    auto start = std::chrono::steady_clock::now();
    query();
    samples.push_back(seconds_since(start) * 1000.0);
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

struct Figures {
  double values_per_second = 0;
  std::optional<double> bytes_per_value;
  std::optional<double> data_files_bytes_per_value;  // InfluxDB: TSM files only, without fixed overheads
  double raw_1h_ms = 0;
  double hourly_30d_ms = 0;
  double max15_7d_ms = 0;
  double daily_year_ms = 0;
};

// InfluxDB writes TSM files from its cache only after the shard is cold for a while
// (bench/tsdb.sh sets those durations low) and compacts them afterwards: wait until the WAL
// is empty and the data directory has stopped changing.
std::int64_t tsm_bytes(const fs::path& dir) {
  std::int64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".tsm") {
      total += static_cast<std::int64_t>(it->file_size(ec));
    }
  }
  return total;
}

std::int64_t settled_influx_bytes(const fs::path& root) {
  const fs::path data = root / "data";
  const fs::path wal = root / "wal";
  std::int64_t last = -1;
  int stable = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::int64_t bytes = directory_bytes(data);
    bool wal_empty = directory_bytes(wal) < (64 << 10);
    stable = (bytes == last && wal_empty) ? stable + 1 : 0;
    last = bytes;
    if (stable >= 5) break;
  }
  return last;
}

Figures run_engine(const std::string& engine, const Settings& s) {
  std::unique_ptr<tsdb::TelemetryStore> store;
  fs::path embedded_dir;
  const fs::path spool_dir =
      fs::temp_directory_path() / ("factoryops-bench-spool-" + std::to_string(::getpid()));
  if (engine == "embedded") {
    embedded_dir = s.embedded_dir.empty()
                       ? fs::temp_directory_path() / ("factoryops-bench-tsdb-" + std::to_string(::getpid()))
                       : s.embedded_dir;
    fs::remove_all(embedded_dir);
    tsdb::EmbeddedOptions options;
    options.directory = embedded_dir;
    options.timezone_of = [zone = s.zone](const FactoryId&) { return zone; };
    store = tsdb::open_embedded_store(options);
  } else {
    tsdb::InfluxOptions options;
    options.url = s.influx_url;
    options.spool_directory = spool_dir;
    store = tsdb::open_influx_store(options);
  }

  const FactoryId factory("bench");
  const std::int64_t day_start = (now_ms() / tsdb::kDayMs - 2) * tsdb::kDayMs;
  const std::int64_t seconds = static_cast<std::int64_t>(s.hours) * 3600;
  std::vector<Meter> meters;
  std::vector<DeviceId> devices;
  for (int d = 0; d < s.devices; ++d) {
    meters.emplace_back(1000 + static_cast<std::uint64_t>(d));
    devices.emplace_back("meter-" + std::to_string(d));
  }

  // The day, as an ingest pipeline would hand it over: every device's next 250 s per call
  // (20 x 250 = 5000 readings, 50 000 values).
  Figures f;
  constexpr std::int64_t kStep = 250;
  std::int64_t values = 0;
  double generating = 0;
  auto start = std::chrono::steady_clock::now();
  for (std::int64_t t0 = 0; t0 < seconds; t0 += kStep) {
    auto gen_start = std::chrono::steady_clock::now();
    std::vector<tsdb::DeviceBatch> batches;
    for (int d = 0; d < s.devices; ++d) {
      tsdb::DeviceBatch batch{factory, devices[static_cast<std::size_t>(d)], {}};
      for (std::int64_t t = t0; t < std::min(seconds, t0 + kStep); ++t) {
        batch.readings.push_back(
            tsdb::Reading{day_start + t * 1000, meters[static_cast<std::size_t>(d)].next(t)});
        values += kMetrics;
      }
      batches.push_back(std::move(batch));
    }
    generating += seconds_since(gen_start);
    store->write(batches);
  }
  auto flush_start = std::chrono::steady_clock::now();
  store->flush();
  const double flush_seconds = seconds_since(flush_start);
  const double load_seconds = seconds_since(start) - generating;
  f.values_per_second = static_cast<double>(values) / load_seconds;
  std::cout << "  " << engine << ": loaded " << values << " values in " << load_seconds
            << " s (of which flush " << flush_seconds << " s)" << std::endl;

  if (engine == "embedded") {
    f.bytes_per_value = static_cast<double>(directory_bytes(embedded_dir)) / static_cast<double>(values);
  } else if (!s.influx_data_dir.empty()) {
    std::cout << "  influxdb: waiting for the cache snapshot and compaction…" << std::endl;
    f.bytes_per_value =
        static_cast<double>(settled_influx_bytes(s.influx_data_dir)) / static_cast<double>(values);
    f.data_files_bytes_per_value =
        static_cast<double>(tsm_bytes(s.influx_data_dir / "data")) / static_cast<double>(values);
  }

  // The long series: one metric of one device at 1 Hz for long_days, ending with the day.
  const DeviceId long_device("long-meter");
  const std::int64_t long_start =
      day_start + tsdb::kDayMs - static_cast<std::int64_t>(s.long_days) * tsdb::kDayMs;
  {
    Meter meter(77);
    std::vector<tsdb::Reading> readings;
    for (std::int64_t t = 0; t < static_cast<std::int64_t>(s.long_days) * 86400; ++t) {
      readings.push_back(tsdb::Reading{long_start + t * 1000, {meter.next(t)[4]}});
      if (readings.size() == 5000) {
        std::vector<tsdb::DeviceBatch> batch{{factory, long_device, std::move(readings)}};
        store->write(batch);
        readings.clear();
      }
    }
    std::vector<tsdb::DeviceBatch> batch{{factory, long_device, std::move(readings)}};
    store->write(batch);
    store->flush();
  }

  // The year series: one metric of one device for year_days, ending with the day.
  const DeviceId year_device("year-meter");
  const std::int64_t year_start =
      day_start + tsdb::kDayMs - static_cast<std::int64_t>(s.year_days) * tsdb::kDayMs;
  {
    Meter meter(78);
    std::vector<tsdb::Reading> readings;
    for (std::int64_t t = 0; t < static_cast<std::int64_t>(s.year_days) * 86400; t += kYearStepSeconds) {
      readings.push_back(tsdb::Reading{year_start + t * 1000, {meter.next(t)[4]}});
      if (readings.size() == 5000) {
        std::vector<tsdb::DeviceBatch> batch{{factory, year_device, std::move(readings)}};
        store->write(batch);
        readings.clear();
      }
    }
    std::vector<tsdb::DeviceBatch> batch{{factory, year_device, std::move(readings)}};
    store->write(batch);
    store->flush();
  }

  std::vector<std::string> all_metrics(kMetricNames, kMetricNames + kMetrics);
  const std::int64_t hour_from = day_start + std::min<std::int64_t>(12, s.hours - 1) * tsdb::kHourMs;
  std::size_t sink = 0;
  f.raw_1h_ms = median_ms(s.rounds, [&] {
    auto r = store->read_raw(
        tsdb::RawQuery{factory, devices[0], {"power_kw"}, hour_from, hour_from + tsdb::kHourMs, 5000});
    sink += r[0].points.size();
  });
  f.hourly_30d_ms = median_ms(s.rounds, [&] {
    auto r = store->read_aggregate(tsdb::AggregateQuery{factory,
                                                        long_device,
                                                        {"power_kw"},
                                                        long_start,
                                                        day_start + tsdb::kDayMs,
                                                        tsdb::kHourMs,
                                                        tsdb::Aggregate::kAvg,
                                                        "UTC"});
    sink += r[0].points.size();
  });
  f.max15_7d_ms = median_ms(s.rounds, [&] {
    auto r = store->read_aggregate(
        tsdb::AggregateQuery{factory, devices[0], all_metrics, day_start + tsdb::kDayMs - 7 * tsdb::kDayMs,
                             day_start + tsdb::kDayMs, 15 * tsdb::kMinuteMs, tsdb::Aggregate::kMax, "UTC"});
    for (const auto& series : r) sink += series.points.size();
  });
  // Daily averages in the factory's zone over the year, as a year chart asks for them.
  f.daily_year_ms = median_ms(s.rounds, [&] {
    auto r = store->read_aggregate(tsdb::AggregateQuery{factory,
                                                        year_device,
                                                        {"power_kw"},
                                                        year_start,
                                                        day_start + tsdb::kDayMs,
                                                        tsdb::kDayMs,
                                                        tsdb::Aggregate::kAvg,
                                                        s.zone});
    sink += r[0].points.size();
  });
  std::cout << "  " << engine << ": queries answered " << sink << " points in all" << std::endl;
  store.reset();
  if (engine == "embedded" && s.embedded_dir.empty()) fs::remove_all(embedded_dir);
  if (engine == "influxdb") fs::remove_all(spool_dir);
  return f;
}

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  s.hours = std::min(24, env_int("BENCH_TSDB_HOURS", 24));
  s.devices = env_int("BENCH_TSDB_DEVICES", 20);
  s.long_days = env_int("BENCH_TSDB_LONG_DAYS", 30);
  s.rounds = env_int("BENCH_TSDB_ROUNDS", 20);
  s.year_days = env_int("BENCH_TSDB_YEAR_DAYS", 365);
  if (const char* zone = std::getenv("BENCH_TSDB_ZONE"); zone && *zone) s.zone = zone;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--engines") {
      s.engines.clear();
      std::string list = value();
      for (std::size_t pos = 0; pos <= list.size();) {
        auto comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        if (comma > pos) s.engines.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else if (arg == "--influx-url") {
      s.influx_url = value();
    } else if (arg == "--influx-data-dir") {
      s.influx_data_dir = value();
    } else if (arg == "--embedded-dir") {
      s.embedded_dir = value();
    } else {
      std::cerr
          << "usage: tsdb_compare [--engines embedded,influxdb] [--influx-url URL] [--influx-data-dir DIR] "
             "[--embedded-dir DIR]\n";
      return 2;
    }
  }
  for (const auto& e : s.engines) {
    if (e != "embedded" && e != "influxdb") {
      std::cerr << "unknown engine " << e << "\n";
      return 2;
    }
    if (e == "influxdb" && s.influx_url.empty()) {
      std::cerr << "--influx-url is required for the influxdb engine (bench/tsdb.sh starts one)\n";
      return 2;
    }
  }

  std::cout << "telemetry storage: " << s.devices << " devices x " << kMetrics << " metrics x " << s.hours
            << " h at 1 Hz; long series " << s.long_days << " days; year series " << s.year_days
            << " days every " << kYearStepSeconds << " s; factory zone " << s.zone << "; median of "
            << s.rounds << std::endl;
  std::map<std::string, Figures> figures;
  for (const auto& engine : s.engines) {
    try {
      figures[engine] = run_engine(engine, s);
    } catch (const std::exception& e) {
      std::cerr << engine << " failed: " << e.what() << "\n";
      return 1;
    }
  }

  std::printf("\n%-34s", "");
  for (const auto& e : s.engines) std::printf("%16s", e.c_str());
  if (figures.size() == 2) std::printf("%20s", "embedded/influxdb");
  std::printf("\n");
  auto row = [&](const char* label, auto get, int decimals) {
    std::printf("%-34s", label);
    std::vector<std::optional<double>> got;
    for (const auto& e : s.engines) {
      std::optional<double> v = get(figures[e]);
      got.push_back(v);
      std::printf("%16s", v ? fixed(*v, decimals).c_str() : "n/a");
    }
    if (got.size() == 2 && got[0] && got[1] && *got[1] != 0)
      std::printf("%20s", fixed(*got[0] / *got[1], 3).c_str());
    std::printf("\n");
  };
  row(
      "write rate (values/s)", [](const Figures& f) { return std::optional<double>(f.values_per_second); },
      0);
  row(
      "bytes per value on disk", [](const Figures& f) { return f.bytes_per_value; }, 2);
  row(
      "  of which TSM files (influxdb)", [](const Figures& f) { return f.data_files_bytes_per_value; }, 2);
  row(
      "1 h raw, one series (ms)", [](const Figures& f) { return std::optional<double>(f.raw_1h_ms); }, 2);
  row(
      "30 d hourly avg, one series (ms)",
      [](const Figures& f) { return std::optional<double>(f.hourly_30d_ms); }, 2);
  row(
      "7 d 15-min max, 10 series (ms)", [](const Figures& f) { return std::optional<double>(f.max15_7d_ms); },
      2);
  row(
      "daily avg over the year series (ms)",
      [](const Figures& f) { return std::optional<double>(f.daily_year_ms); }, 2);
  return 0;
}
