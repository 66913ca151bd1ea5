#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

}  // namespace
}  // namespace factoryops::tsdb
