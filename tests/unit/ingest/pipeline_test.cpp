// IngestPipeline over a recording TelemetryStore (a test double of the in-process interface) and
// a migrated SQLite metadata DB: what is stored, what is refused, discovery, the rejection log
// (20 per device) and the listener queue that never blocks ingestion.
#include "ingest/pipeline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <thread>

#include "core/errors.hpp"
#include "db/clock.hpp"
#include "unit/devices/device_fixture.hpp"

namespace factoryops::ingest {
namespace {

class RecordingStore : public tsdb::TelemetryStore {
 public:
  std::string_view engine() const override { return "recording"; }
  void write(std::span<const tsdb::DeviceBatch> batches) override {
    std::lock_guard lock(mutex);
    if (unavailable) throw core::Unavailable("store down");
    for (const auto& b : batches) written.push_back(b);
  }
  std::vector<tsdb::Series> read_raw(const tsdb::RawQuery&) override { return {}; }
  std::vector<tsdb::Series> read_aggregate(const tsdb::AggregateQuery&) override { return {}; }
  std::vector<tsdb::LatestValue> latest(const core::FactoryId&, const core::DeviceId&,
                                        std::span<const std::string>) override {
    return {};
  }
  void apply_retention(const core::FactoryId&, const tsdb::RetentionPolicy&, std::int64_t) override {}
  tsdb::StorageUsage usage(const core::FactoryId&) override { return {}; }
  tsdb::StoreStatus status() override { return {}; }
  void flush() override {}

  std::mutex mutex;
  bool unavailable = false;
  std::vector<tsdb::DeviceBatch> written;
};

class PipelineTest : public devices::testing::DeviceDatabaseTest {
 protected:
  void SetUp() override {
    DeviceDatabaseTest::SetUp();
    devices::NewDevice press;
    press.device_id = "press-1";
    press.name = "Press";
    service_->create(owner_, press);
  }

  std::int64_t rejection_rows() {
    auto conn = db_->acquire();
    return conn->query_one("SELECT COUNT(*) FROM ingest_rejections WHERE device_id = 'press-1'")->get_int(0);
  }

  RecordingStore store_;
  const core::FactoryId acme_{"acme"};
  const core::DeviceId press_{"press-1"};
};

TEST_F(PipelineTest, StoresOneBatchPerMessageWithTheDeviceFromTheCaller) {
  IngestPipeline pipeline(store_, nullptr, nullptr);
  const auto now = db::now_ms();
  auto outcome = pipeline.ingest(acme_, press_, R"([{"a":1,"b":true},{"a":2,"s":"x"}])", now);
  EXPECT_EQ(outcome.accepted, 2u);
  EXPECT_EQ(outcome.rejected, 0u);
  EXPECT_EQ(outcome.dropped_fields, 1u);
  EXPECT_EQ(outcome.values, 3u);
  EXPECT_FALSE(outcome.refused.has_value());
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_EQ(outcome.errors[0].field, "s");
  ASSERT_EQ(store_.written.size(), 1u);
  EXPECT_EQ(store_.written[0].factory, acme_);
  EXPECT_EQ(store_.written[0].device, press_);
  ASSERT_EQ(store_.written[0].readings.size(), 2u);
  EXPECT_EQ(store_.written[0].readings[0].ts_ms, now);
}

TEST_F(PipelineTest, NothingValidMeansNothingWrittenAndTheFirstReasonIsGiven) {
  IngestPipeline pipeline(store_, nullptr, nullptr);
  auto outcome = pipeline.ingest(acme_, press_, R"([{"ts":"x","a":1},{"s":"y"}])", db::now_ms());
  EXPECT_EQ(outcome.accepted, 0u);
  EXPECT_EQ(outcome.rejected, 2u);
  ASSERT_TRUE(outcome.refused.has_value());
  EXPECT_EQ(outcome.refused->reason, Reason::kBadTimestamp);
  EXPECT_TRUE(store_.written.empty());

  auto broken = pipeline.ingest(acme_, press_, "{", db::now_ms());
  ASSERT_TRUE(broken.refused.has_value());
  EXPECT_EQ(broken.refused->reason, Reason::kInvalidJson);
  EXPECT_EQ(broken.rejected, 1u);
}

TEST_F(PipelineTest, ErrorListIsCappedAtTwenty) {
  IngestPipeline pipeline(store_, nullptr, nullptr);
  std::string body = "{\"ok\":1";
  for (int i = 0; i < 30; ++i) body += ",\"s" + std::to_string(i) + "\":\"x\"";
  body += "}";
  auto outcome = pipeline.ingest(acme_, press_, body, db::now_ms());
  EXPECT_EQ(outcome.dropped_fields, 30u);
  EXPECT_EQ(outcome.errors.size(), kMaxListedErrors);
}

TEST_F(PipelineTest, AnUnavailableStoreFailsTheMessage) {
  IngestPipeline pipeline(store_, nullptr, nullptr);
  store_.unavailable = true;
  EXPECT_THROW(pipeline.ingest(acme_, press_, R"({"a":1})", db::now_ms()), core::Unavailable);
}

TEST_F(PipelineTest, NewKeysBecomeParametersWithTheirDataType) {
  ParameterDiscovery discovery(*db_);
  IngestPipeline pipeline(store_, &discovery, nullptr);
  pipeline.ingest(acme_, press_, R"({"power_kw":3.5,"running":true,"l1":{"v":230.1}})", db::now_ms());
  ASSERT_TRUE(discovery.flush());
  auto params = service_->parameters(owner_, "press-1");
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].parameter_key, "l1.v");
  EXPECT_EQ(params[1].parameter_key, "power_kw");
  EXPECT_EQ(params[1].data_type, "number");
  EXPECT_TRUE(params[1].is_kpi_selected);
  EXPECT_EQ(params[2].parameter_key, "running");
  EXPECT_EQ(params[2].data_type, "bool");
  auto device = service_->get(owner_, "press-1");
  EXPECT_EQ(device.status, "online");
  EXPECT_TRUE(device.last_seen_at_ms.has_value());
}

TEST_F(PipelineTest, KnownKeysAreNotWrittenAgainWithinTheRefreshInterval) {
  ParameterDiscovery discovery(*db_);
  IngestPipeline pipeline(store_, &discovery, nullptr);
  const std::int64_t first = db::now_ms() - 10'000;
  pipeline.ingest(acme_, press_, R"({"a":1})", first);
  ASSERT_TRUE(discovery.flush());
  for (int i = 1; i <= 50; ++i) pipeline.ingest(acme_, press_, R"({"a":2})", first + i);
  pipeline.ingest(acme_, press_, R"({"a":2,"b":3})", first + 100);
  ASSERT_TRUE(discovery.flush());
  auto params = service_->parameters(owner_, "press-1");
  ASSERT_EQ(params.size(), 2u);
  // "a" keeps the time it was first written: refreshing it is throttled (once a minute).
  EXPECT_EQ(params[0].last_seen_at_ms, first);
  EXPECT_EQ(params[1].parameter_key, "b");
  EXPECT_EQ(params[1].first_seen_at_ms, first + 100);
  EXPECT_EQ(*service_->get(owner_, "press-1").last_seen_at_ms, first);
}

TEST_F(PipelineTest, RefreshesLastSeenOncePerInterval) {
  ParameterDiscovery discovery(*db_, {.refresh_interval = std::chrono::milliseconds(30)});
  IngestPipeline pipeline(store_, &discovery, nullptr);
  const std::int64_t first = db::now_ms() - 10'000;
  pipeline.ingest(acme_, press_, R"({"a":1})", first);
  ASSERT_TRUE(discovery.flush());
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  pipeline.ingest(acme_, press_, R"({"a":1})", first + 5000);
  ASSERT_TRUE(discovery.flush());
  EXPECT_EQ(service_->parameters(owner_, "press-1").at(0).last_seen_at_ms, first + 5000);
  EXPECT_EQ(service_->parameters(owner_, "press-1").at(0).first_seen_at_ms, first);
  EXPECT_EQ(*service_->get(owner_, "press-1").last_seen_at_ms, first + 5000);
}

TEST_F(PipelineTest, DiscoveryQueueIsBoundedAndOverflowIsFoundAgain) {
  ParameterDiscovery discovery(*db_, {.max_pending = 2});
  const std::vector<KeySeen> keys = {{"k1"}, {"k2"}, {"k3"}, {"k4"}, {"k5"}};
  const std::int64_t seen = db::now_ms();
  for (int round = 0; round < 5; ++round) {
    // One observe() holds at most two new keys; the others stay unknown and come back.
    discovery.observe(acme_, press_, keys, seen);
    EXPECT_LE(discovery.pending(), 3u);  // two parameters and the device
    ASSERT_TRUE(discovery.flush());
  }
  EXPECT_EQ(service_->parameters(owner_, "press-1").size(), 5u);
}

TEST_F(PipelineTest, ADeviceCreatedAgainHasItsKeysDiscoveredAgain) {
  ParameterDiscovery discovery(*db_);
  const std::vector<KeySeen> keys = {{"power_kw"}};
  discovery.observe(acme_, press_, keys, db::now_ms());
  ASSERT_TRUE(discovery.flush());
  service_->remove(owner_, "press-1");
  discovery.forget(acme_, press_);
  devices::NewDevice press;
  press.device_id = "press-1";
  press.name = "Press again";
  service_->create(owner_, press);
  discovery.observe(acme_, press_, keys, db::now_ms());
  ASSERT_TRUE(discovery.flush());
  EXPECT_EQ(service_->parameters(owner_, "press-1").size(), 1u);
}

TEST_F(PipelineTest, RejectionsAreRecordedAndTwentyKept) {
  RejectionLog log(*db_);
  IngestPipeline pipeline(store_, nullptr, &log);
  for (int i = 0; i < 25; ++i) {
    pipeline.ingest(acme_, press_,
                    "{\"n\":" + std::to_string(i) + ",\"ts\":\"bad-" + std::to_string(i) + "\"}",
                    db::now_ms());
  }
  pipeline.ingest(acme_, press_, "not json \xFF", db::now_ms());
  log.flush();
  EXPECT_EQ(rejection_rows(), 20);
  auto recent = log.recent(acme_, press_);
  ASSERT_EQ(recent.size(), 20u);
  EXPECT_EQ(recent[0].reason, "invalid_json");
  EXPECT_FALSE(recent[0].message.empty());
  EXPECT_EQ(recent[0].payload_head, "not json \xEF\xBF\xBD");
  EXPECT_EQ(recent[1].reason, "bad_timestamp");
  EXPECT_NE(recent[1].payload_head.find("bad-24"), std::string::npos);
  EXPECT_NE(recent[19].payload_head.find("bad-6"), std::string::npos);
  // Another device of the same name in another factory sees none of them.
  EXPECT_TRUE(log.recent(core::FactoryId("rival"), press_).empty());
}

TEST_F(PipelineTest, ListenersGetStoredBatchesAndASlowOneNeverBlocksIngestion) {
  IngestPipeline pipeline(store_, nullptr, nullptr, {.listener_queue = 4});
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> seen{0};
  pipeline.add_listener([&](const tsdb::DeviceBatch& batch) {
    EXPECT_EQ(batch.device, core::DeviceId("press-1"));
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return release; });
    ++seen;
  });
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) pipeline.ingest(acme_, press_, R"({"a":1})", db::now_ms());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_LE(pipeline.queued_batches(), 4u);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  for (int i = 0; i < 200 && pipeline.queued_batches() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // One batch was being handled when the queue filled, four waited; the rest were dropped.
  EXPECT_GE(seen.load(), 4);
  EXPECT_LE(seen.load(), 5);
  EXPECT_EQ(store_.written.size(), 20u);
}

}  // namespace
}  // namespace factoryops::ingest
