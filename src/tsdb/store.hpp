// The telemetry store: where readings are kept and how they are read back. Two engines
// implement it, chosen by FACTORYOPS_TSDB_URL: the embedded engine (compressed chunks and
// rollups on SQLite, `embedded:`) and InfluxDB (`influxdb://host:8086/db`). Both pass the same
// conformance suite (tests/tsdb/store_conformance.hpp), so callers never branch on the engine.
//
// Every call is scoped by a FactoryId; a series is (factory, device, metric). Values are
// doubles (booleans are stored as 0 and 1). Times are epoch milliseconds, UTC. A point written
// twice with the same timestamp keeps the last value written. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.hpp"

namespace factoryops::tsdb {

struct Field {
  std::string key;   // a metric key, already validated: [A-Za-z0-9_.-]{1,64}
  double value = 0;  // finite
};

struct Reading {
  std::int64_t ts_ms = 0;
  std::vector<Field> fields;
};

// The readings of one device, in any time order (late and out-of-order points are normal).
struct DeviceBatch {
  core::FactoryId factory;
  core::DeviceId device;
  std::vector<Reading> readings;
};

enum class Aggregate { kAvg, kMin, kMax, kSum, kCount, kFirst, kLast };
std::string_view aggregate_name(Aggregate aggregate);             // "avg", "min", …
std::optional<Aggregate> parse_aggregate(std::string_view name);  // nullopt when unknown

struct Point {
  std::int64_t ts_ms = 0;
  double value = 0;
  friend bool operator==(const Point&, const Point&) = default;
};

// One metric's answer. Metrics asked for but without data in the range come back with no points,
// in the order they were asked for.
struct Series {
  std::string metric;
  std::vector<Point> points;  // ascending ts_ms, unique
};

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 86'400'000;

// Raw points with from_ms <= ts < to_ms, oldest first, at most `limit` per series (the oldest
// `limit`). Callers that need to know whether the range held more ask for limit + 1.
struct RawQuery {
  core::FactoryId factory;
  core::DeviceId device;
  std::vector<std::string> metrics;  // at least one
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::size_t limit = 1000;
};

// One value per non-empty bucket; a bucket's point carries the bucket's start time.
// interval_ms < kDayMs: must divide kDayMs; buckets are aligned to the Unix epoch (UTC).
// interval_ms == kDayMs: buckets are calendar days of `timezone` (an IANA zone), so a DST day
// spans 23 or 25 hours. Other intervals are invalid (core::Invalid).
// Buckets are those whose start lies in [from_ms, to_ms) after `from_ms` is rounded down to
// a bucket start; points outside [from_ms, to_ms) never count.
struct AggregateQuery {
  core::FactoryId factory;
  core::DeviceId device;
  std::vector<std::string> metrics;  // at least one
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::int64_t interval_ms = kMinuteMs;
  Aggregate aggregate = Aggregate::kAvg;
  std::string timezone = "UTC";
};

struct LatestValue {
  std::string metric;
  std::int64_t ts_ms = 0;
  double value = 0;
};

// Days to keep; HLD §10 ranges: raw 183..366, rollups 730..1826.
struct RetentionPolicy {
  int raw_days = 183;
  int rollup_days = 730;
};

struct StorageUsage {
  std::optional<std::int64_t> bytes;  // on-disk bytes of this factory; nullopt when the engine cannot tell
  std::int64_t series = 0;            // distinct (device, metric) pairs stored
};

struct StoreStatus {
  bool reachable = true;             // false: writes are being spooled, queries fail
  std::int64_t spooled_batches = 0;  // batches waiting to be replayed (InfluxDB engine)
  std::string detail;                // short, human readable; never a secret
};

class TelemetryStore {
 public:
  virtual ~TelemetryStore() = default;

  // "embedded" or "influxdb".
  virtual std::string_view engine() const = 0;

  // Durable on return: after it returns, the points survive a kill -9 of this process (the
  // embedded engine's write-ahead log, or InfluxDB, or the spool). Throws core::Unavailable when
  // the batch could not be made durable; then nothing of it is acknowledged.
  virtual void write(std::span<const DeviceBatch> batches) = 0;

  // Queries see every acknowledged write. Throw core::Unavailable when the engine cannot answer.
  virtual std::vector<Series> read_raw(const RawQuery& query) = 0;
  virtual std::vector<Series> read_aggregate(const AggregateQuery& query) = 0;

  // The newest point of each metric of the device (all its metrics when `metrics` is empty),
  // ordered by metric.
  virtual std::vector<LatestValue> latest(const core::FactoryId& factory, const core::DeviceId& device,
                                          std::span<const std::string> metrics) = 0;

  // Deletes raw points older than now - raw_days and rollups older than now - rollup_days.
  virtual void apply_retention(const core::FactoryId& factory, const RetentionPolicy& policy,
                               std::int64_t now_ms) = 0;

  virtual StorageUsage usage(const core::FactoryId& factory) = 0;
  virtual StoreStatus status() = 0;

  // Makes everything written so far compacted and durable in its final form (benchmarks,
  // orderly shutdown). Writes and queries stay correct without it.
  virtual void flush() = 0;
};

// Options of the embedded engine.
struct EmbeddedOptions {
  std::filesystem::path directory;  // <data_dir>/tsdb; created if missing
  // The IANA zone of a factory, for day rollups; "UTC" when unknown. Called rarely: when the
  // factory's file is first opened (under the engine's lock) and before each apply_retention,
  // which is how a changed zone is noticed. Day rollups serve only queries in the zone they were
  // computed in, so a stale answer here costs speed, never correctness.
  std::function<std::string(const core::FactoryId&)> timezone_of;
  // fdatasync the write-ahead log before acknowledging (survives power loss, not only kill -9).
  bool sync_on_write = false;
  // Heads are compacted in the background once they hold this many points (0: the engine's
  // default, embedded::kMaxHeadPoints). Writes and queries go on while it runs.
  std::size_t compact_at_points = 0;
};

std::unique_ptr<TelemetryStore> open_embedded_store(const EmbeddedOptions& options);

// Options of the InfluxDB engine.
struct InfluxOptions {
  std::string url;                        // influxdb://[user:password@]host:port/database or influxdbs://…
  std::string token;                      // optional; sent as "Authorization: Token <token>"
  std::string redis_url;                  // spool on Redis when set and reachable
  std::filesystem::path spool_directory;  // the disk spool otherwise (<data_dir>/spool)
  std::int64_t spool_max_bytes = 1LL << 30;
};

std::unique_ptr<TelemetryStore> open_influx_store(const InfluxOptions& options);

}  // namespace factoryops::tsdb
