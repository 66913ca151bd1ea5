// The InfluxDB engine against a real influxd 1.x: the shared conformance suite, then what
// happens while InfluxDB is down (the Redis spool, the disk spool, its bound, and replay after
// the store itself restarts).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <thread>

#include <unistd.h>

#include "core/errors.hpp"
#include "core/metrics.hpp"
#include "harness/process.hpp"
#include "harness/services.hpp"
#include "tsdb/store.hpp"
#include "tsdb/store_conformance.hpp"

namespace factoryops::tsdb::conformance {
namespace {

using testing::InfluxServer;
using testing::RedisServer;
using testing::TempDir;

// One influxd for the whole conformance suite; tests keep apart by factory id. Created on first
// use, stopped and removed (with its directory) when the test program ends.
std::unique_ptr<InfluxServer>& shared_influx_holder() {
  static std::unique_ptr<InfluxServer> server;
  return server;
}

InfluxServer& shared_influx() {
  auto& server = shared_influx_holder();
  if (!server) server = std::make_unique<InfluxServer>("conformance");
  return *server;
}

std::unique_ptr<TempDir>& shared_spool_dir_holder() {
  static std::unique_ptr<TempDir> dir;
  return dir;
}

TempDir& shared_spool_dir() {
  auto& dir = shared_spool_dir_holder();
  if (!dir) dir = std::make_unique<TempDir>("factoryops-influx-spool");
  return *dir;
}

std::unique_ptr<TelemetryStore> open_shared() {
  InfluxOptions options;
  options.url = shared_influx().url();
  options.spool_directory = shared_spool_dir().path();
  return open_influx_store(options);
}

INSTANTIATE_TEST_SUITE_P(InfluxDb, TelemetryStoreConformance,
                         ::testing::Values(StoreConformanceParam{"influxdb", open_shared, open_shared}),
                         conformance_param_name);

struct StopSharedServers : ::testing::Environment {
  void TearDown() override {
    shared_influx_holder().reset();
    shared_spool_dir_holder().reset();
  }
};
const auto* const stop_shared = ::testing::AddGlobalTestEnvironment(new StopSharedServers);

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

DeviceBatch reading_batch(const std::string& factory, std::int64_t ts, double value) {
  return DeviceBatch{core::FactoryId(factory), core::DeviceId("meter"), {Reading{ts, {Field{"kw", value}}}}};
}

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return predicate();
}

class InfluxSpoolTest : public ::testing::Test {
 protected:
  // Writes `count` one-point batches for consecutive seconds from `first`, value = index.
  void write_points(TelemetryStore& store, const std::string& factory, int from, int to) {
    for (int i = from; i < to; ++i) {
      DeviceBatch b = reading_batch(factory, base_ + i * 1000, i);
      store.write(std::span<const DeviceBatch>(&b, 1));
    }
  }
  // Every point from 0 to count-1 present exactly once, with its value.
  void expect_all(TelemetryStore& store, const std::string& factory, int count) {
    auto series = store.read_raw(RawQuery{core::FactoryId(factory),
                                          core::DeviceId("meter"),
                                          {"kw"},
                                          base_,
                                          base_ + count * 1000 + 1,
                                          static_cast<std::size_t>(count) + 10});
    ASSERT_EQ(series.size(), 1u);
    ASSERT_EQ(series[0].points.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      EXPECT_EQ(series[0].points[static_cast<std::size_t>(i)], (Point{base_ + i * 1000, double(i)}));
    }
  }

  std::int64_t base_ = (now_ms() / kHourMs - 2) * kHourMs;
  TempDir spool_dir_{"factoryops-influx-spool-test"};
};

TEST_F(InfluxSpoolTest, RedisSpoolKeepsWritesWhileInfluxIsDownAndReplaysThemInOrder) {
  InfluxServer influx("spool_redis");
  RedisServer redis;
  InfluxOptions options;
  options.url = influx.url();
  options.redis_url = redis.url();
  options.spool_directory = spool_dir_.path();
  auto store = open_influx_store(options);
  auto& replayed = core::metrics::Registry::global()
                       .counter("telemetry_spool_replayed_batches_total",
                                "Spooled telemetry batches replayed into InfluxDB")
                       .labels({});
  const double replayed_before = replayed.value();

  write_points(*store, "spool-redis", 0, 20);
  influx.stop();
  write_points(*store, "spool-redis", 20, 50);  // durable in Redis: write() returns normally
  // Same timestamp again while spooled: the later value must win after replay.
  DeviceBatch again = reading_batch("spool-redis", base_ + 25 * 1000, -1);
  store->write(std::span<const DeviceBatch>(&again, 1));
  again = reading_batch("spool-redis", base_ + 25 * 1000, 25);
  store->write(std::span<const DeviceBatch>(&again, 1));

  auto status = store->status();
  EXPECT_FALSE(status.reachable);
  EXPECT_EQ(status.spooled_batches, 32);
  EXPECT_EQ(redis.command("LLEN factoryops:tsdb:spool:spool_redis:" +
                          [] {
                            char host[256] = {};
                            gethostname(host, sizeof host - 1);
                            return std::string(host);
                          }()),
            ":32");
  EXPECT_THROW(
      store->read_raw(RawQuery{
          core::FactoryId("spool-redis"), core::DeviceId("meter"), {"kw"}, base_, base_ + kHourMs, 10}),
      core::Unavailable);
  EXPECT_EQ(core::metrics::Registry::global().gauge("telemetry_spool_depth", "").labels({}).value(), 32);

  influx.start();
  ASSERT_TRUE(eventually([&] { return store->status().spooled_batches == 0 && store->status().reachable; }));
  write_points(*store, "spool-redis", 50, 60);
  expect_all(*store, "spool-redis", 60);
  EXPECT_EQ(replayed.value() - replayed_before, 32);
  EXPECT_EQ(core::metrics::Registry::global().gauge("telemetry_spool_depth", "").labels({}).value(), 0);
}

TEST_F(InfluxSpoolTest, DiskSpoolTakesOverWhenRedisIsDown) {
  InfluxServer influx("spool_disk");
  RedisServer redis;
  InfluxOptions options;
  options.url = influx.url();
  options.redis_url = redis.url();
  options.spool_directory = spool_dir_.path();
  auto store = open_influx_store(options);

  write_points(*store, "spool-disk", 0, 10);
  redis.process().stop();
  influx.stop();
  write_points(*store, "spool-disk", 10, 30);
  EXPECT_EQ(store->status().spooled_batches, 20);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(spool_dir_.path())) {
    files += entry.path().extension() == ".batch";
  }
  EXPECT_EQ(files, 20u);

  influx.start();
  ASSERT_TRUE(eventually([&] { return store->status().spooled_batches == 0; }));
  expect_all(*store, "spool-disk", 30);
  EXPECT_TRUE(std::filesystem::is_empty(spool_dir_.path()));
}

TEST_F(InfluxSpoolTest, DiskSpoolSurvivesTheStoreAndIsReplayedAfterReopening) {
  InfluxServer influx("spool_reopen");
  InfluxOptions options;
  options.url = influx.url();
  options.spool_directory = spool_dir_.path();
  {
    auto store = open_influx_store(options);
    write_points(*store, "spool-reopen", 0, 5);
    influx.stop();
    write_points(*store, "spool-reopen", 5, 15);
    EXPECT_EQ(store->status().spooled_batches, 10);
  }
  influx.start();
  auto store = open_influx_store(options);
  ASSERT_TRUE(eventually([&] { return store->status().spooled_batches == 0; }));
  expect_all(*store, "spool-reopen", 15);
}

TEST_F(InfluxSpoolTest, FullDiskSpoolRefusesWritesInsteadOfDroppingThem) {
  InfluxServer influx("spool_full");
  InfluxOptions options;
  options.url = influx.url();
  options.spool_directory = spool_dir_.path();
  options.spool_max_bytes = 2000;
  auto store = open_influx_store(options);
  influx.stop();
  int accepted = 0;
  bool refused = false;
  for (int i = 0; i < 200 && !refused; ++i) {
    try {
      write_points(*store, "spool-full", i, i + 1);
      ++accepted;
    } catch (const core::Unavailable&) {
      refused = true;
    }
  }
  ASSERT_TRUE(refused) << "the spool never filled up";
  EXPECT_GT(accepted, 5);
  EXPECT_EQ(store->status().spooled_batches, accepted);

  influx.start();
  ASSERT_TRUE(eventually([&] { return store->status().spooled_batches == 0; }));
  // Everything acknowledged is there; the refused point was not acknowledged.
  expect_all(*store, "spool-full", accepted);
}

TEST(InfluxStoreTest, IdentifiersAndValuesCannotEscapeTheirQuotes) {
  auto& influx = shared_influx();
  InfluxOptions options;
  options.url = influx.url();
  options.spool_directory = shared_spool_dir().path();
  auto store = open_influx_store(options);
  const std::int64_t t = (now_ms() / kDayMs - 1) * kDayMs;
  std::vector<DeviceBatch> batches = {
      DeviceBatch{core::FactoryId("quote-a"), core::DeviceId("d"), {Reading{t, {Field{"a.b-c_d", 1.25}}}}}};
  store->write(batches);
  // A metric name with quotes and InfluxQL stays one identifier: no error, no other data.
  auto series = store->read_raw(RawQuery{core::FactoryId("quote-a"),
                                         core::DeviceId("d"),
                                         {"x\" FROM telemetry --", "a.b-c_d"},
                                         t,
                                         t + 1000,
                                         10});
  ASSERT_EQ(series.size(), 2u);
  EXPECT_TRUE(series[0].points.empty());
  EXPECT_EQ(series[1].points, (std::vector<Point>{{t, 1.25}}));
}

TEST(InfluxStoreTest, RejectsBadUrls) {
  InfluxOptions options;
  options.url = "http://127.0.0.1:8086/db";
  EXPECT_THROW(open_influx_store(options), core::Invalid);
  options.url = "influxdb://127.0.0.1:8086/";
  EXPECT_THROW(open_influx_store(options), core::Invalid);
}

}  // namespace
}  // namespace factoryops::tsdb::conformance
