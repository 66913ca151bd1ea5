// Parameter discovery and the rejection log while the metadata DB (MariaDB) is down: readings
// keep being stored, nothing waits on the database, and the discoveries and rejections land
// once it is back.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "auth/context.hpp"
#include "core/errors.hpp"
#include "db/clock.hpp"
#include "db/database.hpp"
#include "db/factory_repository.hpp"
#include "db/migrations.hpp"
#include "devices/device_service.hpp"
#include "harness/mariadb.hpp"
#include "ingest/discovery.hpp"
#include "ingest/pipeline.hpp"
#include "ingest/rejection_log.hpp"

namespace factoryops::testing {
namespace {

// The telemetry store double: an in-process interface, recorded here so the test can see that
// writes continue while the metadata DB is down.
class RecordingStore : public tsdb::TelemetryStore {
 public:
  std::string_view engine() const override { return "recording"; }
  void write(std::span<const tsdb::DeviceBatch> batches) override {
    std::lock_guard lock(mutex_);
    for (const auto& b : batches) points_ += b.readings.size();
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
  std::size_t readings() {
    std::lock_guard lock(mutex_);
    return points_;
  }

 private:
  std::mutex mutex_;
  std::size_t points_ = 0;
};

TEST(IngestDiscoveryMariaDb, DiscoveriesAndRejectionsLandAfterTheDatabaseReturns) {
  auto mariadb = MariaDbServer::start();
  db::DatabaseOptions options;
  options.pool_size = 4;
  options.acquire_timeout = std::chrono::milliseconds(500);
  options.connect_timeout = std::chrono::milliseconds(500);
  options.read_timeout = std::chrono::milliseconds(1000);
  options.write_timeout = std::chrono::milliseconds(1000);
  auto database = db::Database::open(mariadb->create_database("fo_ingest_outage"), options);
  db::migrate(*database);
  db::FactoryRepository(*database).create({core::FactoryId("acme"), "Acme"});
  devices::DeviceService devices(*database);
  auth::FactoryContext owner{.factory_id = core::FactoryId("acme"),
                             .user_id = 0,
                             .email = "test",
                             .role = auth::Role::super_admin,
                             .permissions = {},
                             .request_id = "t",
                             .ip = ""};
  devices::NewDevice press;
  press.device_id = "press-1";
  press.name = "Press";
  devices.create(owner, press);

  RecordingStore store;
  ingest::ParameterDiscovery discovery(*database, {.min_backoff = std::chrono::milliseconds(50),
                                                   .max_backoff = std::chrono::milliseconds(400)});
  ingest::RejectionLog rejections(*database,
                                  {.max_queued = 100, .retry_delay = std::chrono::milliseconds(100)});
  ingest::IngestPipeline pipeline(store, &discovery, &rejections);
  const core::FactoryId acme("acme");
  const core::DeviceId device("press-1");

  pipeline.ingest(acme, device, R"({"power_kw":1})", db::now_ms());
  ASSERT_TRUE(discovery.flush());

  mariadb->stop();
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    pipeline.ingest(acme, device,
                    "{\"power_kw\":2,\"new_key_" + std::to_string(i % 5) + "\":" + std::to_string(i) + "}",
                    db::now_ms());
  }
  pipeline.ingest(acme, device, R"({"ts":"while the database was down","a":1})", db::now_ms());
  // Ingestion did not wait for the database: 51 messages in well under one connect timeout each.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
  EXPECT_EQ(store.readings(), 51u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_GE(discovery.pending(), 5u);

  mariadb->restart();
  std::vector<devices::DeviceParameter> params;
  for (int i = 0; i < 200; ++i) {
    try {
      params = devices.parameters(owner, "press-1");
      if (params.size() == 6) break;
    } catch (const core::Unavailable&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(params.size(), 6u);
  EXPECT_EQ(params[0].parameter_key, "new_key_0");
  EXPECT_TRUE(params[0].is_kpi_selected);
  EXPECT_EQ(params[5].parameter_key, "power_kw");

  std::vector<ingest::Rejection> recent;
  for (int i = 0; i < 100 && recent.empty(); ++i) {
    try {
      recent = rejections.recent(acme, device);
    } catch (const core::Unavailable&) {
    }
    if (recent.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].reason, "bad_timestamp");
  EXPECT_NE(recent[0].payload_head.find("while the database was down"), std::string::npos);
}

}  // namespace
}  // namespace factoryops::testing
