// Reading telemetry on behalf of a signed-in caller: device queries (raw or aggregated under
// max_points), latest values, the dashboard's one-parameter-many-machines query, and the
// factory's storage usage and retention settings. Every function takes the FactoryContext
// first; a device of another factory is "not found". Thread-safe; the Database and the store
// must outlive the service.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/context.hpp"
#include "db/database.hpp"
#include "db/factory_repository.hpp"
#include "devices/device_repository.hpp"
#include "tsdb/query_plan.hpp"
#include "tsdb/store.hpp"

namespace factoryops::tsdb {

constexpr std::size_t kMaxQueryDevices = 50;
constexpr int kMinRawRetentionDays = 183;
constexpr int kMaxRawRetentionDays = 366;
constexpr int kMinRollupRetentionDays = 730;
constexpr int kMaxRollupRetentionDays = 1826;

// What a query answered. `interval_ms` is nullopt (and `aggregate` too) when the points are
// raw. Each series holds at most the plan's max_points points.
struct TelemetryAnswer {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::optional<std::int64_t> interval_ms{};
  std::optional<Aggregate> aggregate{};
  std::string timezone = "UTC";
  std::vector<Series> series{};  // one per parameter (device query) or per device (multi-device);
                                 // Series::metric names the parameter or the device
};

struct StorageReport {
  std::string engine;
  StorageUsage usage{};
  RetentionPolicy retention{};  // in force
  RetentionPolicy defaults{};   // from the configuration
  bool overridden = false;      // the factory has its own value for either
};

// A PATCH of the retention settings: an engaged outer optional sets the field, an empty inner
// one returns it to the default.
struct RetentionChange {
  std::optional<std::optional<int>> raw_days{};
  std::optional<std::optional<int>> rollup_days{};
};

// The policy in force: the factory's values where set, the defaults elsewhere.
RetentionPolicy effective_policy(const db::RetentionOverride& own, const RetentionPolicy& defaults);

class TelemetryQueryService {
 public:
  // `defaults` are config.retention_raw_days / retention_rollup_days. `now_ms` supplies the
  // current time (queries without `to`); the system clock when empty.
  TelemetryQueryService(db::Database& db, TelemetryStore& store, RetentionPolicy defaults,
                        std::function<std::int64_t()> now_ms = {});

  // One device. Empty plan.params: the device's KPI-selected parameters (an empty answer when
  // it has none). core::NotFound for an unknown device; core::Invalid("max_points", …) when
  // raw or the explicit interval would exceed max_points.
  TelemetryAnswer query(const auth::FactoryContext& context, std::string_view device_id,
                        const QueryPlan& plan);

  // One parameter of several devices (1..kMaxQueryDevices, each must exist: core::NotFound
  // naming the first that does not). Series::metric is the device id, in the order asked.
  TelemetryAnswer query_devices(const auth::FactoryContext& context, std::span<const std::string> device_ids,
                                std::string_view param, const QueryPlan& plan);

  // The newest value of each parameter (all of the device's when `params` is empty).
  std::vector<LatestValue> latest(const auth::FactoryContext& context, std::string_view device_id,
                                  std::span<const std::string> params);

  // Requires manage_factory.
  StorageReport storage(const auth::FactoryContext& context);
  // Requires manage_factory. core::Invalid naming raw_days / rollup_days when out of range.
  // Audited as telemetry.retention_changed, in the same transaction as the change.
  StorageReport update_retention(const auth::FactoryContext& context, const RetentionChange& change);

  // Every factory's policy in force (for the retention scheduler).
  std::vector<std::pair<core::FactoryId, RetentionPolicy>> policies();

  TelemetryStore& store() { return store_; }

 private:
  core::DeviceId existing_device(const auth::FactoryContext& context, std::string_view device_id);
  std::string timezone_of(const core::FactoryId& factory);
  std::int64_t now() const;

  db::Database& db_;
  TelemetryStore& store_;
  RetentionPolicy defaults_;
  std::function<std::int64_t()> now_ms_;
  db::FactoryRepository factories_;
  devices::DeviceRepository devices_;
};

}  // namespace factoryops::tsdb
