#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <thread>

#include "core/errors.hpp"
#include "tsdb/store.hpp"

namespace factoryops::tsdb {
namespace {

namespace fs = std::filesystem;

// 2026-06-01T00:00:00Z
constexpr std::int64_t kT0 = 1'780'272'000'000;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "tsdb-embedded-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

EmbeddedOptions options_for(const fs::path& dir) {
  EmbeddedOptions options;
  options.directory = dir;
  options.timezone_of = [](const core::FactoryId&) { return std::string("Europe/Berlin"); };
  return options;
}

DeviceBatch batch(const std::string& factory, const std::string& device, const std::string& metric,
                  const std::vector<Point>& points) {
  DeviceBatch b{core::FactoryId(factory), core::DeviceId(device), {}};
  for (const Point& p : points) b.readings.push_back(Reading{p.ts_ms, {Field{metric, p.value}}});
  return b;
}

void write(TelemetryStore& store, const DeviceBatch& b) {
  store.write(std::span<const DeviceBatch>(&b, 1));
}

std::vector<Point> raw(TelemetryStore& store, const std::string& factory, const std::string& device,
                       const std::string& metric, std::int64_t from, std::int64_t to,
                       std::size_t limit = 1'000'000) {
  RawQuery q{core::FactoryId(factory), core::DeviceId(device), {metric}, from, to, limit};
  auto series = store.read_raw(q);
  EXPECT_EQ(series.size(), 1u);
  return series.at(0).points;
}

std::vector<Point> aggregate(TelemetryStore& store, const std::string& metric, std::int64_t from,
                             std::int64_t to, std::int64_t interval, Aggregate agg,
                             const std::string& tz = "UTC") {
  AggregateQuery q{core::FactoryId("acme"), core::DeviceId("m1"), {metric}, from, to, interval, agg, tz};
  auto series = store.read_aggregate(q);
  EXPECT_EQ(series.size(), 1u);
  return series.at(0).points;
}

// A plain reference: bucket every point of [from, to) by `start_of` and fold in time order.
std::vector<Point> reference(const std::map<std::int64_t, double>& data, std::int64_t from, std::int64_t to,
                             const std::function<std::int64_t(std::int64_t)>& start_of, Aggregate agg) {
  std::map<std::int64_t, std::vector<double>> buckets;
  for (const auto& [ts, v] : data) {
    if (ts >= from && ts < to) buckets[start_of(ts)].push_back(v);
  }
  std::vector<Point> out;
  for (const auto& [start, vs] : buckets) {
    double sum = 0;
    for (double v : vs) sum += v;
    double value = 0;
    switch (agg) {
      case Aggregate::kAvg: value = sum / static_cast<double>(vs.size()); break;
      case Aggregate::kMin: value = *std::min_element(vs.begin(), vs.end()); break;
      case Aggregate::kMax: value = *std::max_element(vs.begin(), vs.end()); break;
      case Aggregate::kSum: value = sum; break;
      case Aggregate::kCount: value = static_cast<double>(vs.size()); break;
      case Aggregate::kFirst: value = vs.front(); break;
      case Aggregate::kLast: value = vs.back(); break;
    }
    out.push_back(Point{start, value});
  }
  return out;
}

void expect_close(const std::vector<Point>& got, const std::vector<Point>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].ts_ms, want[i].ts_ms) << what << " bucket " << i;
    EXPECT_NEAR(got[i].value, want[i].value, 1e-9 * std::max(1.0, std::fabs(want[i].value)))
        << what << " bucket " << i;
  }
}

std::int64_t floor_step(std::int64_t ts, std::int64_t step) {
  return ts - (((ts % step) + step) % step);
}

TEST(EmbeddedStore, RawRoundTripBeforeAndAfterFlush) {
  TempDir dir;
  auto store = open_embedded_store(options_for(dir.path()));
  EXPECT_EQ(store->engine(), "embedded");
  std::vector<Point> points;
  for (int i = 0; i < 500; ++i) points.push_back(Point{kT0 + i * 1000, 230.0 + (i % 10) / 10.0});
  write(*store, batch("acme", "m1", "voltage", points));
  EXPECT_EQ(raw(*store, "acme", "m1", "voltage", kT0, kT0 + 1'000'000), points);
  store->flush();
  EXPECT_EQ(raw(*store, "acme", "m1", "voltage", kT0, kT0 + 1'000'000), points);
  auto limited = raw(*store, "acme", "m1", "voltage", kT0 + 10'000, kT0 + 20'000, 3);
  EXPECT_EQ(limited, (std::vector<Point>{points[10], points[11], points[12]}));
  // Unknown metric and device: empty, in the order asked for.
  RawQuery q{core::FactoryId("acme"), core::DeviceId("m1"), {"nope", "voltage"}, kT0, kT0 + 2000, 10};
  auto series = store->read_raw(q);
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].metric, "nope");
  EXPECT_TRUE(series[0].points.empty());
  EXPECT_EQ(series[1].points.size(), 2u);
  EXPECT_TRUE(raw(*store, "acme", "m2", "voltage", kT0, kT0 + 1'000'000).empty());
}

TEST(EmbeddedStore, LateOutOfOrderAndDuplicatePointsKeepTheLastWrite) {
  TempDir dir;
  auto store = open_embedded_store(options_for(dir.path()));
  std::map<std::int64_t, double> truth;
  std::mt19937_64 rng(5);
  // Three windows, written shuffled, in several batches with flushes in between; duplicates
  // are overwritten both inside the head and across a flush.
  std::vector<std::int64_t> ts;
  for (int i = 0; i < 3000; ++i) ts.push_back(kT0 + i * 7000);
  for (int round = 0; round < 3; ++round) {
    std::shuffle(ts.begin(), ts.end(), rng);
    std::vector<Point> points;
    for (std::size_t i = 0; i < 1000; ++i) {
      double v = static_cast<double>(rng() % 100000) / 100.0;
      points.push_back(Point{ts[i], v});
      truth[ts[i]] = v;
    }
    write(*store, batch("acme", "m1", "p", points));
    if (round == 1) store->flush();
  }
  std::vector<Point> want;
  for (const auto& [t, v] : truth) want.push_back(Point{t, v});
  EXPECT_EQ(raw(*store, "acme", "m1", "p", kT0, kT0 + 3000 * 7000), want);
  store->flush();
  EXPECT_EQ(raw(*store, "acme", "m1", "p", kT0, kT0 + 3000 * 7000), want);
  // A limited read with unflushed points that precede and overwrite stored ones.
  write(*store,
        batch("acme", "m1", "p", {Point{kT0 - 1000, -1}, Point{kT0 + 7000, -2}, Point{kT0 + 3500, -3}}));
  truth[kT0 - 1000] = -1;
  truth[kT0 + 7000] = -2;
  truth[kT0 + 3500] = -3;
  std::vector<Point> first_five;
  for (const auto& [t, v] : truth) {
    if (first_five.size() < 5) first_five.push_back(Point{t, v});
  }
  EXPECT_EQ(raw(*store, "acme", "m1", "p", kT0 - kHourMs, kT0 + kDayMs, 5), first_five);
  // Aggregates follow the overwritten values too, from rollups and from raw.
  for (Aggregate agg : {Aggregate::kSum, Aggregate::kCount, Aggregate::kFirst, Aggregate::kLast}) {
    auto by = [](std::int64_t t) { return floor_step(t, kHourMs); };
    expect_close(aggregate(*store, "p", kT0, kT0 + 6 * kHourMs, kHourMs, agg),
                 reference(truth, kT0, kT0 + 6 * kHourMs, by, agg), std::string(aggregate_name(agg)));
  }
}

TEST(EmbeddedStore, AggregatesMatchRawDataAtEveryBoundary) {
  TempDir dir;
  auto store = open_embedded_store(options_for(dir.path()));
  std::map<std::int64_t, double> truth;
  std::mt19937_64 rng(11);
  std::vector<Point> flushed;
  std::vector<Point> unflushed;
  // Five hours at 0.2 Hz with gaps; the last hour stays in memory.
  for (std::int64_t t = kT0 - 3 * kHourMs; t < kT0 + 2 * kHourMs; t += 5000) {
    if (rng() % 10 == 0) continue;
    double v = static_cast<double>(static_cast<std::int64_t>(rng() % 20001) - 10000) / 1000.0;
    truth[t] = v;
    (t < kT0 + kHourMs ? flushed : unflushed).push_back(Point{t, v});
  }
  write(*store, batch("acme", "m1", "pf", flushed));
  store->flush();
  write(*store, batch("acme", "m1", "pf", unflushed));
  const std::vector<std::pair<std::int64_t, std::int64_t>> ranges = {
      {kT0 - 3 * kHourMs, kT0 + 2 * kHourMs},                // everything, aligned
      {kT0 - 2 * kHourMs - 12'345, kT0 + kHourMs + 30'001},  // unaligned edges, head included
      {kT0 + 61'000, kT0 + 62'000},                          // inside one minute
      {kT0 - kHourMs + 1, kT0 + 90 * kMinuteMs + 7}};
  for (std::int64_t interval :
       std::vector<std::int64_t>{1000, 10'000, kMinuteMs, 15 * kMinuteMs, kHourMs, kDayMs}) {
    for (const auto& [from, to] : ranges) {
      for (Aggregate agg : {Aggregate::kAvg, Aggregate::kMin, Aggregate::kMax, Aggregate::kSum,
                            Aggregate::kCount, Aggregate::kFirst, Aggregate::kLast}) {
        auto by = [interval](std::int64_t t) { return floor_step(t, interval); };
        expect_close(aggregate(*store, "pf", from, to, interval, agg), reference(truth, from, to, by, agg),
                     std::string(aggregate_name(agg)) + " every " + std::to_string(interval) + " from " +
                         std::to_string(from));
      }
    }
  }
  // A single point.
  auto one = aggregate(*store, "pf", kT0 + 2000 * 0, kT0 + 1, kMinuteMs, Aggregate::kCount);
  EXPECT_EQ(one.size(), truth.contains(kT0) ? 1u : 0u);
}

TEST(EmbeddedStore, DayBucketsFollowTheZoneAcrossDstAndHalfHourOffsets) {
  TempDir dir;
  auto store = open_embedded_store(options_for(dir.path()));
  // Hourly points from 2026-03-27 to 2026-03-31 (Berlin springs forward on 03-29) and around
  // 2026-10-25 (falls back).
  const std::int64_t march = 1'774'569'600'000;    // 2026-03-27T00:00:00Z
  const std::int64_t october = 1'792'713'600'000;  // 2026-10-23T00:00:00Z
  std::vector<Point> points;
  for (std::int64_t t = march; t < march + 4 * kDayMs; t += kHourMs) points.push_back(Point{t, 1});
  for (std::int64_t t = october; t < october + 4 * kDayMs; t += kHourMs) points.push_back(Point{t, 1});
  write(*store, batch("acme", "m1", "on", points));
  for (bool flushed : {false, true}) {
    if (flushed) store->flush();
    // Berlin local midnight of 03-28 (UTC+1) is 03-27T23:00Z; 03-29 is 23 hours long.
    auto spring = aggregate(*store, "on", march + kDayMs - kHourMs, march + 3 * kDayMs - 2 * kHourMs, kDayMs,
                            Aggregate::kCount, "Europe/Berlin");
    ASSERT_EQ(spring.size(), 2u);
    EXPECT_EQ(spring[0].ts_ms, march + kDayMs - kHourMs);
    EXPECT_EQ(spring[0].value, 24);
    EXPECT_EQ(spring[1].ts_ms, march + 2 * kDayMs - kHourMs);
    EXPECT_EQ(spring[1].value, 23);
    // 10-25 local midnight is 10-24T22:00Z (summer time) and the day lasts 25 hours.
    auto autumn = aggregate(*store, "on", october + 2 * kDayMs - 2 * kHourMs, october + 3 * kDayMs - kHourMs,
                            kDayMs, Aggregate::kCount, "Europe/Berlin");
    ASSERT_EQ(autumn.size(), 1u);
    EXPECT_EQ(autumn[0].ts_ms, october + 2 * kDayMs - 2 * kHourMs);
    EXPECT_EQ(autumn[0].value, 25);
    // Kolkata days start at 18:30 UTC; from is rounded down to that start.
    auto kolkata = aggregate(*store, "on", march + kDayMs, march + 2 * kDayMs, kDayMs, Aggregate::kCount,
                             "Asia/Kolkata");
    ASSERT_EQ(kolkata.size(), 2u);
    EXPECT_EQ(kolkata[0].ts_ms, march + kDayMs - 5 * kHourMs - 30 * kMinuteMs);
    EXPECT_EQ(kolkata[0].value, 19);  // 00:00Z..18:00Z of 03-28
    EXPECT_EQ(kolkata[1].ts_ms, march + 2 * kDayMs - 5 * kHourMs - 30 * kMinuteMs);
    EXPECT_EQ(kolkata[1].value, 5);  // 19:00Z..23:00Z
  }
  EXPECT_THROW(aggregate(*store, "on", march, march + kDayMs, kDayMs, Aggregate::kCount, "Mars/Olympus"),
               core::Invalid);
}

TEST(EmbeddedStore, BadQueriesAreInvalid) {
  TempDir dir;
  auto store = open_embedded_store(options_for(dir.path()));
  EXPECT_THROW(aggregate(*store, "x", kT0, kT0 + kHourMs, 7 * kMinuteMs, Aggregate::kAvg), core::Invalid);
  EXPECT_THROW(aggregate(*store, "x", kT0, kT0 + kHourMs, 2 * kDayMs, Aggregate::kAvg), core::Invalid);
  EXPECT_THROW(aggregate(*store, "x", kT0, kT0 + kHourMs, 0, Aggregate::kAvg), core::Invalid);
  EXPECT_THROW(aggregate(*store, "x", kT0, kT0, kMinuteMs, Aggregate::kAvg), core::Invalid);
  EXPECT_THROW(raw(*store, "acme", "m1", "x", kT0 + 1, kT0), core::Invalid);
  RawQuery none{core::FactoryId("acme"), core::DeviceId("m1"), {}, kT0, kT0 + 1, 10};
  EXPECT_THROW(store->read_raw(none), core::Invalid);
  // Extreme ranges are clipped, not overflowed; timestamps beyond them are refused.
  write(*store, batch("acme", "m1", "x", {Point{kT0, 4}}));
  const auto lowest = std::numeric_limits<std::int64_t>::min();
  const auto highest = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(raw(*store, "acme", "m1", "x", lowest, highest), (std::vector<Point>{Point{kT0, 4}}));
  EXPECT_EQ(aggregate(*store, "x", lowest, highest, kHourMs, Aggregate::kSum),
            (std::vector<Point>{Point{kT0, 4}}));
  EXPECT_THROW(aggregate(*store, "x", lowest, highest, kDayMs, Aggregate::kSum), core::Invalid);
  EXPECT_THROW(write(*store, batch("acme", "m1", "x", {Point{highest, 1}})), core::Invalid);
  // Reads of a factory that never wrote create nothing.
  EXPECT_TRUE(raw(*store, "ghost", "m1", "x", kT0, kT0 + 1).empty());
  EXPECT_EQ(store->usage(core::FactoryId("ghost")).series, 0);
  EXPECT_TRUE(store->latest(core::FactoryId("ghost"), core::DeviceId("m1"), {}).empty());
  EXPECT_FALSE(fs::exists(dir.path() / "ghost.db"));
}

TEST(EmbeddedStore, ReopenKeepsPointsAndLatestValues) {
  TempDir dir;
  {
    auto store = open_embedded_store(options_for(dir.path()));
    DeviceBatch b{core::FactoryId("acme"), core::DeviceId("m1"), {}};
    b.readings.push_back(Reading{kT0 + 5000, {Field{"v", 1.5}, Field{"a", 2.5}}});
    b.readings.push_back(Reading{kT0, {Field{"v", 0.5}}});
    write(*store, b);
    auto latest = store->latest(core::FactoryId("acme"), core::DeviceId("m1"), {});
    ASSERT_EQ(latest.size(), 2u);
    EXPECT_EQ(latest[0].metric, "a");
    EXPECT_EQ(latest[1].metric, "v");
    EXPECT_EQ(latest[1].ts_ms, kT0 + 5000);
    EXPECT_EQ(latest[1].value, 1.5);
  }
  auto store = open_embedded_store(options_for(dir.path()));
  EXPECT_EQ(raw(*store, "acme", "m1", "v", kT0, kT0 + kHourMs),
            (std::vector<Point>{Point{kT0, 0.5}, Point{kT0 + 5000, 1.5}}));
  std::vector<std::string> only = {"v"};
  auto latest = store->latest(core::FactoryId("acme"), core::DeviceId("m1"), only);
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].value, 1.5);
  EXPECT_EQ(store->usage(core::FactoryId("acme")).series, 2);
  EXPECT_GT(store->usage(core::FactoryId("acme")).bytes.value_or(0), 0);
}

TEST(EmbeddedStore, FactoriesAreIsolated) {
  TempDir dir;
  auto store = open_embedded_store(options_for(dir.path()));
  write(*store, batch("acme", "m1", "v", {Point{kT0, 1}}));
  write(*store, batch("other", "m2", "w", {Point{kT0, 2}}));
  store->flush();
  EXPECT_TRUE(raw(*store, "other", "m1", "v", kT0, kT0 + 1000).empty());
  EXPECT_TRUE(raw(*store, "acme", "m2", "w", kT0, kT0 + 1000).empty());
  EXPECT_TRUE(store->latest(core::FactoryId("other"), core::DeviceId("m1"), {}).empty());
  EXPECT_EQ(store->usage(core::FactoryId("other")).series, 1);
  EXPECT_EQ(raw(*store, "acme", "m1", "v", kT0, kT0 + 1000).size(), 1u);
  EXPECT_TRUE(fs::exists(dir.path() / "acme.db"));
  EXPECT_TRUE(fs::exists(dir.path() / "other.db"));
}

TEST(EmbeddedStore, RetentionDeletesOldDataAndTheFileStopsGrowing) {
  TempDir dir;
  auto store = open_embedded_store(options_for(dir.path()));
  const std::int64_t day0 = kT0;
  std::int64_t size_after_first = 0;
  std::mt19937_64 rng(2);
  // Ten days of one point every 10 s, keeping raw 2 days and rollups 4 days each "day".
  for (int day = 0; day < 10; ++day) {
    std::vector<Point> points;
    for (std::int64_t t = day0 + day * kDayMs; t < day0 + (day + 1) * kDayMs; t += 10'000)
      points.push_back(Point{t, static_cast<double>(rng() % 100000) / 7.0});
    write(*store, batch("acme", "m1", "v", points));
    store->flush();
    store->apply_retention(core::FactoryId("acme"), RetentionPolicy{2, 4}, day0 + (day + 1) * kDayMs);
    auto bytes = store->usage(core::FactoryId("acme")).bytes.value_or(0);
    if (day == 4) size_after_first = bytes;
    if (day > 4) {
      EXPECT_LE(bytes, size_after_first + 16 * 4096) << "day " << day;
    }
  }
  const std::int64_t now = day0 + 10 * kDayMs;
  auto kept = raw(*store, "acme", "m1", "v", day0, now);
  ASSERT_FALSE(kept.empty());
  EXPECT_GE(kept.front().ts_ms, now - 2 * kDayMs);
  // Rollups outlive raw points: hourly counts exist back to now - 4 days, not before.
  auto hourly = aggregate(*store, "v", day0, now, kHourMs, Aggregate::kCount);
  ASSERT_FALSE(hourly.empty());
  EXPECT_EQ(hourly.front().ts_ms, now - 4 * kDayMs);
  EXPECT_EQ(hourly.front().value, 360);
  EXPECT_EQ(hourly.size(), 4u * 24u);
}

TEST(EmbeddedStore, ConcurrentWritersLoseNothing) {
  TempDir dir;
  auto store = open_embedded_store(options_for(dir.path()));
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&store, w] {
      for (int round = 0; round < 20; ++round) {
        std::vector<Point> points;
        for (int i = 0; i < 50; ++i) points.push_back(Point{kT0 + (round * 50 + i) * 1000, w + i / 100.0});
        write(*store, batch("acme", "m" + std::to_string(w), "v", points));
        // Everyone also writes its own timestamps of one shared series.
        write(*store, batch("acme", "shared", "v", {Point{kT0 + round * 4 + w, static_cast<double>(w)}}));
        if (round == 10 && w == 0) store->flush();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < 4; ++w)
    EXPECT_EQ(raw(*store, "acme", "m" + std::to_string(w), "v", kT0, kT0 + kDayMs).size(), 1000u);
  EXPECT_EQ(raw(*store, "acme", "shared", "v", kT0, kT0 + kDayMs).size(), 80u);
}

// Compactions run in the background while writing goes on: every point written is visible to
// queries at every moment, whether it is in the head, being compacted, or in a block.
TEST(EmbeddedStore, BackgroundCompactionNeverHidesAPoint) {
  TempDir dir;
  EmbeddedOptions options = options_for(dir.path());
  options.compact_at_points = 100;
  {
    auto store = open_embedded_store(options);
    for (int i = 0; i < 2000; ++i) {
      write(*store, batch("acme", "m1", "v", {Point{kT0 + i * 1000, static_cast<double>(i)}}));
      auto points = raw(*store, "acme", "m1", "v", kT0, kT0 + kDayMs);
      ASSERT_EQ(points.size(), static_cast<std::size_t>(i + 1)) << "after write " << i;
      ASSERT_EQ(points.back().value, static_cast<double>(i));
    }
    // The background thread compacted along the way: far fewer points than written are in memory.
    std::string detail = store->status().detail;
    auto digits = detail.find_first_of("0123456789");
    ASSERT_NE(digits, std::string::npos) << detail;
    EXPECT_LT(std::stoul(detail.substr(digits)), 1000u) << detail;
  }
  auto store = open_embedded_store(options);
  auto points = raw(*store, "acme", "m1", "v", kT0, kT0 + kDayMs);
  ASSERT_EQ(points.size(), 2000u);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(points[static_cast<std::size_t>(i)].value, static_cast<double>(i));
  EXPECT_FALSE(fs::exists(dir.path() / "wal.compacting.log"));
}

// A crash during a background compaction leaves the records being compacted in a log of their
// own, older than the current log's: both are replayed at open, in that order.
TEST(EmbeddedStore, ReplaysTheLogOfAnInterruptedCompactionFirst) {
  TempDir older_dir;
  TempDir newer_dir;
  TempDir dir;
  auto log_of = [](const fs::path& from, const std::function<void(TelemetryStore&)>& writes) {
    auto store = open_embedded_store(options_for(from));
    writes(*store);
    std::ifstream in(from / "wal.log", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string older = log_of(older_dir.path(), [](TelemetryStore& store) {
    write(store, batch("acme", "m1", "v", {Point{kT0, 1}, Point{kT0 + 1000, 10}}));
  });
  std::string newer = log_of(newer_dir.path(), [](TelemetryStore& store) {
    write(store, batch("acme", "m1", "v", {Point{kT0, 2}, Point{kT0 + 2000, 20}}));
  });
  ASSERT_FALSE(older.empty());
  ASSERT_FALSE(newer.empty());
  std::ofstream(dir.path() / "wal.compacting.log", std::ios::binary) << older;
  std::ofstream(dir.path() / "wal.log", std::ios::binary) << newer;
  auto store = open_embedded_store(options_for(dir.path()));
  auto points = raw(*store, "acme", "m1", "v", kT0, kT0 + kDayMs);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].value, 2);  // the newer log's write of the same instant wins
  EXPECT_EQ(points[1].value, 10);
  EXPECT_EQ(points[2].value, 20);
  EXPECT_FALSE(fs::exists(dir.path() / "wal.compacting.log"));
  auto latest = store->latest(core::FactoryId("acme"), core::DeviceId("m1"), {});
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].ts_ms, kT0 + 2000);
}

// A child process writes and reports each acknowledged batch over a pipe; it is killed with
// SIGKILL mid-stream, and the parent reopens the store and finds every acknowledged point.
TEST(EmbeddedStore, AcknowledgedWritesSurviveKill) {
  TempDir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    EmbeddedOptions options = options_for(dir.path());
    options.sync_on_write = true;
    auto store = open_embedded_store(options);
    for (std::int32_t n = 0;; ++n) {
      std::vector<Point> points;
      for (int i = 0; i < 10; ++i) points.push_back(Point{kT0 + (n * 10 + i) * 1000, n + i / 10.0});
      write(*store, batch("acme", "m1", "v", points));
      if (n == 50) store->flush();
      if (::write(fds[1], &n, sizeof n) != sizeof n) ::_exit(1);
    }
  }
  ::close(fds[1]);
  std::int32_t acknowledged = -1;
  std::int32_t n = 0;
  while (acknowledged < 200 && ::read(fds[0], &n, sizeof n) == sizeof n) acknowledged = n;
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  // Drain what was acknowledged before the kill landed.
  while (::read(fds[0], &n, sizeof n) == sizeof n) acknowledged = n;
  ::close(fds[0]);
  ASSERT_GE(acknowledged, 200);
  // A record torn by the crash is ignored.
  {
    std::ofstream wal(dir.path() / "wal.log", std::ios::app | std::ios::binary);
    wal.write("\x40\x00\x00\x00\x12\x34", 6);
  }
  auto store = open_embedded_store(options_for(dir.path()));
  auto points = raw(*store, "acme", "m1", "v", kT0, kT0 + kDayMs);
  ASSERT_GE(points.size(), static_cast<std::size_t>(acknowledged + 1) * 10);
  for (std::int32_t b = 0; b <= acknowledged; ++b) {
    for (int i = 0; i < 10; ++i) {
      const Point& p = points[static_cast<std::size_t>(b * 10 + i)];
      ASSERT_EQ(p.ts_ms, kT0 + (b * 10 + i) * 1000);
      ASSERT_EQ(p.value, b + i / 10.0);
    }
  }
  // Written after the reopen, the log keeps working.
  write(*store, batch("acme", "m1", "v", {Point{kT0 - 1000, 9}}));
  EXPECT_EQ(raw(*store, "acme", "m1", "v", kT0 - 1000, kT0).size(), 1u);
}

// Day rollups. Reference days are worked out by hand, independently of the engine's tz library:
// Europe/Berlin changed to summer time at 2026-03-29T01:00Z and back at 2026-10-25T01:00Z, so
// its local days start at 23:00Z in winter and 22:00Z in summer; Asia/Kolkata days start at
// 18:30Z all year.
constexpr std::int64_t kMarch27 = 1'774'569'600'000;    // 2026-03-27T00:00:00Z
constexpr std::int64_t kOctober23 = 1'792'713'600'000;  // 2026-10-23T00:00:00Z
constexpr std::int64_t kSpringChange = 1'774'746'000'000;
constexpr std::int64_t kAutumnChange = 1'792'890'000'000;

std::int64_t berlin_day(std::int64_t ts) {
  const bool summer = ts >= kSpringChange && ts < kAutumnChange;
  const std::int64_t date = floor_step(ts + (summer ? 2 : 1) * kHourMs, kDayMs);
  // That date's midnight in summer time, if summer time held then; otherwise in winter time.
  const std::int64_t summer_midnight = date - 2 * kHourMs;
  return summer_midnight >= kSpringChange && summer_midnight < kAutumnChange ? summer_midnight
                                                                             : date - kHourMs;
}
std::int64_t kolkata_day(std::int64_t ts) {
  const std::int64_t offset = 5 * kHourMs + 30 * kMinuteMs;
  return floor_step(ts + offset, kDayMs) - offset;
}
std::int64_t utc_day(std::int64_t ts) {
  return floor_step(ts, kDayMs);
}

struct ZoneCase {
  std::string factory;
  std::string zone;
  std::function<std::int64_t(std::int64_t)> day_of;
};

std::vector<ZoneCase> zone_cases() {
  return {{"berlin", "Europe/Berlin", berlin_day},
          {"kolkata", "Asia/Kolkata", kolkata_day},
          {"utc", "UTC", utc_day}};
}

// Factories named after their zone.
EmbeddedOptions zoned_options(const fs::path& dir) {
  EmbeddedOptions options;
  options.directory = dir;
  options.timezone_of = [](const core::FactoryId& id) {
    for (const ZoneCase& c : zone_cases()) {
      if (c.factory == id.str()) return c.zone;
    }
    return std::string("UTC");
  };
  return options;
}

struct Day {
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::string zone;
  std::int64_t count = 0;
  double min = 0, max = 0, sum = 0, first = 0, last = 0;
};

// The days of `data` by `day_of`, folded from the raw points.
std::vector<Day> reference_days(const std::map<std::int64_t, double>& data,
                                const std::function<std::int64_t(std::int64_t)>& day_of) {
  std::vector<Day> out;
  for (const auto& [ts, v] : data) {
    const std::int64_t start = day_of(ts);
    if (out.empty() || out.back().start != start) {
      // A local day lasts 23 to 25 hours, so 26 hours on lies in the next one.
      out.push_back(Day{.start = start,
                        .end = day_of(start + 26 * kHourMs),
                        .zone = {},
                        .count = 0,
                        .min = v,
                        .max = v,
                        .sum = 0,
                        .first = v,
                        .last = v});
    }
    Day& d = out.back();
    ++d.count;
    d.min = std::min(d.min, v);
    d.max = std::max(d.max, v);
    d.sum += v;
    d.last = v;
  }
  return out;
}

// A factory file opened directly (with the store closed): what the engine keeps on disk.
class FactoryFile {
 public:
  explicit FactoryFile(const fs::path& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK) << path;
  }
  ~FactoryFile() { sqlite3_close(db_); }
  FactoryFile(const FactoryFile&) = delete;
  FactoryFile& operator=(const FactoryFile&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }

  // Whether the file is marked as holding every day rollup.
  bool days_marked_complete() {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(
        sqlite3_prepare_v2(db_, "SELECT count(*) FROM meta WHERE key = 'day_rollups'", -1, &stmt, nullptr),
        SQLITE_OK);
    bool marked = stmt && sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int64(stmt, 0) == 1;
    sqlite3_finalize(stmt);
    return marked;
  }

  // The stored day rollups of one series, oldest first.
  std::vector<Day> days(const std::string& device, const std::string& metric) {
    std::vector<Day> out;
    sqlite3_stmt* stmt = nullptr;
    const char* sql =
        "SELECT d.day_start, d.day_end, d.zone, d.points, d.min_value, d.max_value, d.sum_value, "
        "d.first_value, d.last_value FROM rollups_1d d JOIN series s ON s.id = d.series_id "
        "WHERE s.device = ? AND s.metric = ? ORDER BY d.day_start";
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    if (!stmt) return out;
    sqlite3_bind_text(stmt, 1, device.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, metric.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      out.push_back(Day{.start = sqlite3_column_int64(stmt, 0),
                        .end = sqlite3_column_int64(stmt, 1),
                        .zone = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2)),
                        .count = sqlite3_column_int64(stmt, 3),
                        .min = sqlite3_column_double(stmt, 4),
                        .max = sqlite3_column_double(stmt, 5),
                        .sum = sqlite3_column_double(stmt, 6),
                        .first = sqlite3_column_double(stmt, 7),
                        .last = sqlite3_column_double(stmt, 8)});
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Day rollups in the zone `zone` (or a name of the same zone, for UTC) equal to `want`.
void expect_days(const std::vector<Day>& got, const std::vector<Day>& want, const std::string& zone,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const std::string at = what + " day " + std::to_string(want[i].start);
    EXPECT_EQ(got[i].start, want[i].start) << at;
    EXPECT_EQ(got[i].end, want[i].end) << at;
    if (zone == "UTC") {
      EXPECT_TRUE(got[i].zone == "UTC" || got[i].zone == "Etc/UTC") << at << ": " << got[i].zone;
    } else {
      EXPECT_EQ(got[i].zone, zone) << at;
    }
    EXPECT_EQ(got[i].count, want[i].count) << at;
    EXPECT_EQ(got[i].min, want[i].min) << at;
    EXPECT_EQ(got[i].max, want[i].max) << at;
    EXPECT_EQ(got[i].first, want[i].first) << at;
    EXPECT_EQ(got[i].last, want[i].last) << at;
    EXPECT_NEAR(got[i].sum, want[i].sum, 1e-9 * std::max(1.0, std::fabs(want[i].sum))) << at;
  }
}

std::vector<Point> daily(TelemetryStore& store, const std::string& factory, std::int64_t from,
                         std::int64_t to, Aggregate agg, const std::string& tz) {
  AggregateQuery q{core::FactoryId(factory), core::DeviceId("m1"), {"p"}, from, to, kDayMs, agg, tz};
  auto series = store.read_aggregate(q);
  EXPECT_EQ(series.size(), 1u);
  return series.at(0).points;
}

// Daily answers of every aggregate in `zone` equal the raw reference, over whole days and over
// a range that cuts its first and last day.
void expect_daily_answers(TelemetryStore& store, const ZoneCase& c,
                          const std::map<std::int64_t, double>& truth, std::int64_t from, std::int64_t to,
                          const std::string& what) {
  for (Aggregate agg : {Aggregate::kAvg, Aggregate::kMin, Aggregate::kMax, Aggregate::kSum, Aggregate::kCount,
                        Aggregate::kFirst, Aggregate::kLast}) {
    const std::string label = what + " " + c.zone + " " + std::string(aggregate_name(agg));
    expect_close(daily(store, c.factory, from, to, agg, c.zone), reference(truth, from, to, c.day_of, agg),
                 label);
    const std::int64_t cut_from = from + 5 * kHourMs + 1234;
    const std::int64_t cut_to = to - 7 * kHourMs - 77;
    expect_close(daily(store, c.factory, cut_from, cut_to, agg, c.zone),
                 reference(truth, cut_from, cut_to, c.day_of, agg), label + " (partial days)");
  }
}

// Irregular points over five days around each 2026 Berlin clock change, including points on
// and next to the local midnights of every zone under test.
std::map<std::int64_t, double> dst_weeks(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::int64_t, double> data;
  auto value = [&rng] {
    return static_cast<double>(static_cast<std::int64_t>(rng() % 100001) - 50000) / 100.0;
  };
  for (std::int64_t begin : {kMarch27, kOctober23}) {
    for (std::int64_t t = begin; t < begin + 5 * kDayMs;
         t += 1000 + static_cast<std::int64_t>(rng() % 239'000))
      data[t] = value();
    for (std::int64_t day = begin - kDayMs; day < begin + 6 * kDayMs; day += kDayMs) {
      for (const ZoneCase& c : zone_cases()) {
        const std::int64_t midnight = c.day_of(day + 12 * kHourMs);
        if (midnight - 1 < begin || midnight >= begin + 5 * kDayMs) continue;
        data[midnight - 1] = value();
        data[midnight] = value();
      }
    }
  }
  return data;
}

// Writes `data` in three shuffled rounds with compactions between them, then overwrites a
// tenth of the points (some with unchanged timestamps in the same round), and compacts.
void write_shuffled(TelemetryStore& store, const std::string& factory, std::map<std::int64_t, double>& data,
                    std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Point> points;
  for (const auto& [t, v] : data) points.push_back(Point{t, v + 1000});  // overwritten below
  std::shuffle(points.begin(), points.end(), rng);
  const std::size_t third = points.size() / 3;
  for (int round = 0; round < 3; ++round) {
    auto begin = points.begin() + static_cast<std::ptrdiff_t>(round * third);
    auto end = round == 2 ? points.end() : begin + static_cast<std::ptrdiff_t>(third);
    write(store, batch(factory, "m1", "p", std::vector<Point>(begin, end)));
    store.flush();
  }
  std::vector<Point> final;
  for (const auto& [t, v] : data) final.push_back(Point{t, v});
  std::shuffle(final.begin(), final.end(), rng);
  write(store, batch(factory, "m1", "p", final));
  store.flush();
  // A tenth of the points again with new values: duplicates overwrite.
  std::vector<Point> again;
  std::size_t n = 0;
  for (auto& [t, v] : data) {
    if (n++ % 10 != 3) continue;
    v = -v + 0.25;
    again.push_back(Point{t, v});
  }
  write(store, batch(factory, "m1", "p", again));
  store.flush();
}

TEST(EmbeddedDayRollups, EqualRawDaysAcrossDstInBerlinKolkataAndUtc) {
  TempDir dir;
  std::map<std::string, std::map<std::int64_t, double>> truths;
  {
    auto store = open_embedded_store(zoned_options(dir.path()));
    for (const ZoneCase& c : zone_cases()) {
      truths[c.factory] = dst_weeks(17);
      write_shuffled(*store, c.factory, truths[c.factory], 29);
      expect_daily_answers(*store, c, truths[c.factory], c.day_of(kMarch27 + kDayMs),
                           c.day_of(kOctober23 + 4 * kDayMs), "after flush");
    }
  }
  for (const ZoneCase& c : zone_cases()) {
    FactoryFile file(dir.path() / (c.factory + ".db"));
    const std::vector<Day> want = reference_days(truths[c.factory], c.day_of);
    expect_days(file.days("m1", "p"), want, c.zone, c.factory);
    if (c.zone == "Europe/Berlin") {
      // Among them the 23-hour day of 2026-03-29 and the 25-hour day of 2026-10-25.
      auto spring = std::find_if(want.begin(), want.end(),
                                 [](const Day& d) { return d.start == kMarch27 + 2 * kDayMs - kHourMs; });
      ASSERT_NE(spring, want.end());
      EXPECT_EQ(spring->end - spring->start, 23 * kHourMs);
      auto autumn = std::find_if(want.begin(), want.end(), [](const Day& d) {
        return d.start == kOctober23 + 2 * kDayMs - 2 * kHourMs;
      });
      ASSERT_NE(autumn, want.end());
      EXPECT_EQ(autumn->end - autumn->start, 25 * kHourMs);
    }
  }
}

TEST(EmbeddedDayRollups, LateAndRepeatedPointsRebuildTheirDay) {
  TempDir dir;
  const ZoneCase berlin = zone_cases()[0];
  const ZoneCase kolkata = zone_cases()[1];
  std::map<std::string, std::map<std::int64_t, double>> truths;
  auto store = open_embedded_store(zoned_options(dir.path()));
  for (const ZoneCase& c : {berlin, kolkata}) {
    auto& truth = truths[c.factory];
    // Every 45 s from 00:00:07Z, so no point falls on a local midnight.
    for (std::int64_t t = kMarch27 + 7000; t < kMarch27 + 4 * kDayMs; t += 45'000)
      truth[t] = static_cast<double>(t % 977);
    std::vector<Point> points;
    for (const auto& [t, v] : truth) points.push_back(Point{t, v});
    write(*store, batch(c.factory, "m1", "p", points));
  }
  store->flush();
  std::map<std::string, std::vector<Day>> before;
  for (const ZoneCase& c : {berlin, kolkata}) before[c.factory] = reference_days(truths[c.factory], c.day_of);

  // Into the 23-hour day: a point older than any of that day (new first and minimum), a new
  // value for its last point (new last and maximum), and one more in its middle.
  const std::int64_t day_start = kMarch27 + 2 * kDayMs - kHourMs;
  for (const ZoneCase& c : {berlin, kolkata}) {
    auto& truth = truths[c.factory];
    const std::int64_t start = c.day_of(day_start + 6 * kHourMs);
    const std::int64_t last = std::prev(truth.lower_bound(c.day_of(start + 26 * kHourMs)))->first;
    const std::int64_t older = truth.lower_bound(start)->first - 1;
    truth[older] = -5000;
    truth[last] = 5000;
    truth[start + 10 * kHourMs + 7] = 0.5;
    write(*store, batch(c.factory, "m1", "p",
                        {Point{last, 5000}, Point{start + 10 * kHourMs + 7, 0.5}, Point{older, -5000}}));
    // Unflushed: the day is folded from the rollups and the new points.
    expect_daily_answers(*store, c, truth, c.day_of(kMarch27 + kDayMs), c.day_of(kMarch27 + 3 * kDayMs),
                         "before flush");
  }
  store->flush();
  for (const ZoneCase& c : {berlin, kolkata}) {
    expect_daily_answers(*store, c, truths[c.factory], c.day_of(kMarch27 + kDayMs),
                         c.day_of(kMarch27 + 3 * kDayMs), "after flush");
  }
  store.reset();
  for (const ZoneCase& c : {berlin, kolkata}) {
    FactoryFile file(dir.path() / (c.factory + ".db"));
    const std::vector<Day> got = file.days("m1", "p");
    const std::vector<Day> want = reference_days(truths[c.factory], c.day_of);
    expect_days(got, want, c.zone, c.factory);
    // Only the day that received points changed.
    ASSERT_EQ(want.size(), before[c.factory].size());
    int changed = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (want[i].count != before[c.factory][i].count || want[i].sum != before[c.factory][i].sum) ++changed;
    }
    EXPECT_EQ(changed, 1) << c.factory;
  }
}

TEST(EmbeddedDayRollups, RetentionRemovesDaysThatEndedBeforeTheCut) {
  TempDir dir;
  const ZoneCase berlin = zone_cases()[0];
  auto store = open_embedded_store(zoned_options(dir.path()));
  std::vector<Point> points;
  for (std::int64_t t = kT0; t < kT0 + 10 * kDayMs; t += 10 * kMinuteMs) points.push_back(Point{t, 1});
  write(*store, batch("berlin", "m1", "p", points));
  store->flush();
  // Rollups are kept four days: the cut falls at noon UTC, inside the local day that started at
  // 22:00Z (summer time) the evening before.
  const std::int64_t now = kT0 + 10 * kDayMs + 12 * kHourMs;
  const std::int64_t cut = now - 4 * kDayMs;
  const std::int64_t straddling = kT0 + 6 * kDayMs - 2 * kHourMs;
  store->apply_retention(core::FactoryId("berlin"), RetentionPolicy{1, 4}, now);
  auto days = daily(*store, "berlin", kT0 - kDayMs, now, Aggregate::kCount, berlin.zone);
  ASSERT_FALSE(days.empty());
  EXPECT_EQ(days.front().ts_ms, straddling);
  store.reset();
  {
    FactoryFile file(dir.path() / "berlin.db");
    auto stored = file.days("m1", "p");
    ASSERT_FALSE(stored.empty());
    EXPECT_EQ(stored.front().start, straddling);
    for (const Day& d : stored) EXPECT_GT(d.end, cut);
    // The days after the cut are all there: the one in progress at the cut and four more.
    EXPECT_EQ(stored.size(), 5u);
  }
  store = open_embedded_store(zoned_options(dir.path()));
  store->apply_retention(core::FactoryId("berlin"), RetentionPolicy{1, 4}, now + 30 * kDayMs);
  EXPECT_TRUE(daily(*store, "berlin", kT0 - kDayMs, now, Aggregate::kCount, berlin.zone).empty());
  store.reset();
  FactoryFile file(dir.path() / "berlin.db");
  EXPECT_TRUE(file.days("m1", "p").empty());
}

TEST(EmbeddedDayRollups, KeptAcrossReopeningAndUsedForWholeDaysOfTheirZone) {
  TempDir dir;
  const ZoneCase berlin = zone_cases()[0];
  std::map<std::int64_t, double> truth;
  for (std::int64_t t = kMarch27; t < kMarch27 + 4 * kDayMs; t += 30'000)
    truth[t] = static_cast<double>(t % 101);
  {
    auto store = open_embedded_store(zoned_options(dir.path()));
    std::vector<Point> points;
    for (const auto& [t, v] : truth) points.push_back(Point{t, v});
    write(*store, batch("berlin", "m1", "p", points));
  }
  const std::int64_t day = kMarch27 + 2 * kDayMs - kHourMs;  // 2026-03-29, 23 hours
  {
    FactoryFile file(dir.path() / "berlin.db");
    expect_days(file.days("m1", "p"), reference_days(truth, berlin_day), berlin.zone, "reopened");
    // Mark the stored day, to see which answers come from it.
    file.exec("UPDATE rollups_1d SET max_value = 12345 WHERE day_start = " + std::to_string(day));
  }
  auto store = open_embedded_store(zoned_options(dir.path()));
  const std::int64_t to = berlin_day(kMarch27 + 3 * kDayMs + kHourMs);
  auto whole = daily(*store, "berlin", day - kDayMs, to, Aggregate::kMax, berlin.zone);
  ASSERT_EQ(whole.size(), 2u);
  EXPECT_EQ(whole[1].ts_ms, day);
  EXPECT_EQ(whole[1].value, 12345) << "a whole day of the factory's zone is read from its day rollup";
  // A day cut by the range, and the same day in another zone (same offsets), come from the
  // hourly rollups.
  auto cut = daily(*store, "berlin", day + 1, to, Aggregate::kMax, berlin.zone);
  ASSERT_FALSE(cut.empty());
  EXPECT_EQ(cut[0].value, 100);
  auto paris = daily(*store, "berlin", day, to, Aggregate::kMax, "Europe/Paris");
  ASSERT_FALSE(paris.empty());
  EXPECT_EQ(paris[0].ts_ms, day);
  EXPECT_EQ(paris[0].value, 100);
  // Unflushed points in the day: folded from the rollups and the points.
  write(*store, batch("berlin", "m1", "p", {Point{day + kHourMs + 1, 7}}));
  auto with_head = daily(*store, "berlin", day, to, Aggregate::kMax, berlin.zone);
  ASSERT_FALSE(with_head.empty());
  EXPECT_EQ(with_head[0].value, 100);
}

TEST(EmbeddedDayRollups, FilesWithoutDayRollupsGetThemBuilt) {
  TempDir dir;
  std::map<std::string, std::map<std::int64_t, double>> truths;
  const std::vector<ZoneCase> cases = {zone_cases()[0], zone_cases()[1]};
  {
    auto store = open_embedded_store(zoned_options(dir.path()));
    for (const ZoneCase& c : cases) {
      truths[c.factory] = dst_weeks(3);
      std::vector<Point> points;
      for (const auto& [t, v] : truths[c.factory]) points.push_back(Point{t, v});
      write(*store, batch(c.factory, "m1", "p", points));
    }
  }
  // The files as an engine without day rollups left them.
  for (const ZoneCase& c : cases) {
    FactoryFile file(dir.path() / (c.factory + ".db"));
    file.exec("DROP TRIGGER hour_rollups_written; DROP TABLE rollups_1d; DROP TABLE meta;");
  }
  {
    auto store = open_embedded_store(zoned_options(dir.path()));
    // Right away (the days may still be being built): answers are whole.
    for (const ZoneCase& c : cases) {
      expect_daily_answers(*store, c, truths[c.factory], c.day_of(kMarch27 + kDayMs),
                           c.day_of(kOctober23 + 4 * kDayMs), "while building");
    }
    store->flush();  // finishes building
    for (const ZoneCase& c : cases) {
      FactoryFile file(dir.path() / (c.factory + ".db"));
      expect_days(file.days("m1", "p"), reference_days(truths[c.factory], c.day_of), c.zone, "built");
    }
  }
  // Hourly rollups written by such an engine after the days were built (a downgrade, then an
  // upgrade) make the days stale: the next engine builds them again.
  for (const ZoneCase& c : cases) {
    FactoryFile file(dir.path() / (c.factory + ".db"));
    file.exec("UPDATE rollups_1d SET sum_value = 1e9");
    file.exec(
        "INSERT OR REPLACE INTO rollups_1h SELECT * FROM rollups_1h WHERE rowid = "
        "(SELECT min(rowid) FROM rollups_1h)");
  }
  auto store = open_embedded_store(zoned_options(dir.path()));
  for (const ZoneCase& c : cases) {
    // A factory's file is opened when it is first used.
    expect_daily_answers(*store, c, truths[c.factory], c.day_of(kMarch27 + kDayMs),
                         c.day_of(kOctober23 + 4 * kDayMs), "while rebuilding");
  }
  // This time the background thread does it, without flush().
  for (const ZoneCase& c : cases) {
    FactoryFile file(dir.path() / (c.factory + ".db"));
    for (int i = 0; i < 200 && !file.days_marked_complete(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(file.days_marked_complete()) << c.factory;
    expect_days(file.days("m1", "p"), reference_days(truths[c.factory], c.day_of), c.zone, "rebuilt");
  }
}

TEST(EmbeddedDayRollups, AChangedFactoryZoneRebuildsTheDays) {
  TempDir dir;
  std::string zone = "Europe/Berlin";
  EmbeddedOptions options;
  options.directory = dir.path();
  options.timezone_of = [&zone](const core::FactoryId&) { return zone; };
  std::map<std::int64_t, double> truth = dst_weeks(5);
  std::vector<Point> points;
  for (const auto& [t, v] : truth) points.push_back(Point{t, v});
  const ZoneCase berlin{"plant", "Europe/Berlin", berlin_day};
  const ZoneCase kolkata{"plant", "Asia/Kolkata", kolkata_day};
  const ZoneCase utc{"plant", "UTC", utc_day};
  const std::int64_t from = kMarch27 + kDayMs;
  const std::int64_t to = kOctober23 + 4 * kDayMs;
  {
    auto store = open_embedded_store(options);
    write(*store, batch("plant", "m1", "p", points));
    store->flush();
    // Changed while running: noticed when retention runs (nothing here is old enough to go).
    zone = "Asia/Kolkata";
    store->apply_retention(core::FactoryId("plant"), RetentionPolicy{3650, 3650}, to);
    for (const ZoneCase& c : {berlin, kolkata, utc})
      expect_daily_answers(*store, c, truth, c.day_of(from), c.day_of(to), "after the change");
    store->flush();
    for (const ZoneCase& c : {berlin, kolkata, utc})
      expect_daily_answers(*store, c, truth, c.day_of(from), c.day_of(to), "rebuilt");
  }
  {
    FactoryFile file(dir.path() / "plant.db");
    expect_days(file.days("m1", "p"), reference_days(truth, kolkata_day), "Asia/Kolkata", "rebuilt");
  }
  // Changed while stopped: noticed when the file is opened.
  zone = "UTC";
  {
    auto store = open_embedded_store(options);
    expect_daily_answers(*store, utc, truth, utc_day(from), utc_day(to), "reopened in UTC");
    store->flush();
  }
  FactoryFile file(dir.path() / "plant.db");
  expect_days(file.days("m1", "p"), reference_days(truth, utc_day), "UTC", "reopened in UTC");
}

}  // namespace
}  // namespace factoryops::tsdb
