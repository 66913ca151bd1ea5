// The InfluxDB engine of TelemetryStore. Points go to measurement `telemetry` (tags factory_id,
// device_id; one float field per metric) in the database's default retention policy; rollups
// (count, min, max, sum, first, last per 1 min and 1 h) go to `telemetry_1m` / `telemetry_1h` in
// the `rollups` policy. When InfluxDB does not take a batch, the batch is spooled (Redis, else
// disk) and replayed in order by a background thread. See docs/tsdb-influxdb.md.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include <date/tz.h>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "tsdb/influx/http_client.hpp"
#include "tsdb/influx/line_protocol.hpp"
#include "tsdb/influx/spool.hpp"
#include "tsdb/store.hpp"

namespace factoryops::tsdb {
namespace influx {
namespace {

constexpr std::size_t kMaxLinesPerBatch = 5000;
// The raw policy holds what ingest accepts (timestamps up to 400 days old); per-factory raw
// retention (183…366 days) is enforced by apply_retention's DELETE.
constexpr std::string_view kRawPolicy = "raw";
constexpr std::string_view kRawDuration = "400d";
// Rollups live up to the longest allowed rollup retention (1826 days) plus slack.
constexpr std::string_view kRollupPolicy = "rollups";
constexpr std::string_view kRollupDuration = "1830d";
// Continuous queries recompute the last hour (1 min rollups) and two hours (1 h rollups) on
// every run; points older than this at write time are rolled up by the engine itself.
constexpr std::int64_t kLateAfterMs = 30 * kMinuteMs;
// Rollup buckets older than this are final: the continuous queries recompute the last one (1 min)
// and two hours (1 h) and late points are rolled up by the engine before rollups are read.
constexpr std::int64_t kRollupsFinalAfterMs = 3 * kHourMs;
constexpr auto kReplayPause = std::chrono::milliseconds(250);
constexpr auto kRollupPause = std::chrono::seconds(5);

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t floor_to(std::int64_t value, std::int64_t step) {
  std::int64_t q = value / step;
  if (value % step < 0) --q;
  return q * step;
}

std::string ms(std::int64_t value) {
  return std::to_string(value) + "ms";
}

std::string influx_function(Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::kAvg: return "mean";
    case Aggregate::kMin: return "min";
    case Aggregate::kMax: return "max";
    case Aggregate::kSum: return "sum";
    case Aggregate::kCount: return "count";
    case Aggregate::kFirst: return "first";
    case Aggregate::kLast: return "last";
  }
  return "mean";
}

// The rollup expression that answers `aggregate` from the rollup fields of `metric`.
std::string rollup_expression(Aggregate aggregate, const std::string& metric) {
  auto field = [&](std::string_view kind) { return quote_identifier(std::string(kind) + "_" + metric); };
  switch (aggregate) {
    case Aggregate::kAvg: return "sum(" + field("sum") + "),sum(" + field("count") + ")";
    case Aggregate::kMin: return "min(" + field("min") + ")";
    case Aggregate::kMax: return "max(" + field("max") + ")";
    case Aggregate::kSum: return "sum(" + field("sum") + ")";
    case Aggregate::kCount: return "sum(" + field("count") + ")";
    case Aggregate::kFirst: return "first(" + field("first") + ")";
    case Aggregate::kLast: return "last(" + field("last") + ")";
  }
  return {};
}

std::string series_filter(const core::FactoryId& factory, const core::DeviceId& device) {
  return "\"factory_id\"=" + quote_literal(factory.str()) +
         " AND \"device_id\"=" + quote_literal(device.str());
}

void validate_range(const std::vector<std::string>& metrics, std::int64_t from, std::int64_t to) {
  if (metrics.empty()) throw core::Invalid("metrics", "at least one metric is required");
  if (from >= to) throw core::Invalid("to", "must be after from");
}

const date::time_zone* zone_or_invalid(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    throw core::Invalid("timezone", "unknown IANA time zone");
  }
}

bool whole_hour_offset(const date::time_zone* zone, std::int64_t at_ms) {
  auto info = zone->get_info(date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(at_ms)));
  return info.offset.count() % 3600 == 0;
}

// The start, in UTC, of the local calendar day that holds `at_ms`.
std::int64_t local_day_floor(const date::time_zone* zone, std::int64_t at_ms) {
  const auto local =
      zone->to_local(date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(at_ms)));
  const auto start = zone->to_sys(date::floor<date::days>(local), date::choose::earliest);
  return std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count();
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

class InfluxStore final : public TelemetryStore {
 public:
  explicit InfluxStore(const InfluxOptions& options)
      : http_(parse_influx_url(options.url, options.token)),
        spool_(options.redis_url, "factoryops:tsdb:spool:" + http_.endpoint().database + ":" + host_name(),
               options.spool_directory, options.spool_max_bytes),
        depth_gauge_(
            core::metrics::Registry::global()
                .gauge("telemetry_spool_depth", "Telemetry batches waiting in the spool for InfluxDB")
                .labels({})),
        replayed_counter_(core::metrics::Registry::global()
                              .counter("telemetry_spool_replayed_batches_total",
                                       "Spooled telemetry batches replayed into InfluxDB")
                              .labels({})),
        rejected_counter_(core::metrics::Registry::global()
                              .counter("telemetry_spool_rejected_batches_total",
                                       "Spooled telemetry batches that InfluxDB rejected as invalid")
                              .labels({})) {
    depth_gauge_.set(static_cast<double>(spool_.depth()));
    if (http_.ping().status == 204) {
      ensure_schema();
      reachable_ = spool_.depth() == 0;
    } else {
      set_unreachable("InfluxDB does not answer /ping");
    }
    replayer_ = std::thread([this] { replay_loop(); });
  }

  ~InfluxStore() override {
    {
      std::lock_guard lock(wake_mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    replayer_.join();
    try {
      if (reachable_ && has_dirty()) refresh_rollups();
    } catch (const std::exception& e) {
      log::warn("InfluxDB: late rollups not written at close", {{"error", e.what()}});
    }
  }

  std::string_view engine() const override { return "influxdb"; }

  void write(std::span<const DeviceBatch> batches) override {
    // Bodies of at most kMaxLinesPerBatch lines; a device batch may span several bodies.
    std::vector<std::string> bodies;
    std::string current;
    std::size_t lines = 0;
    for (const auto& batch : batches) {
      std::size_t next = 0;
      while (next < batch.readings.size()) {
        std::size_t take = std::min(kMaxLinesPerBatch - lines, batch.readings.size() - next);
        lines += append_lines(current, batch, next, take);
        next += take;
        if (lines == kMaxLinesPerBatch) {
          bodies.push_back(std::move(current));
          current.clear();
          lines = 0;
        }
      }
    }
    if (lines > 0) bodies.push_back(std::move(current));

    std::shared_lock order(order_);
    for (const auto& body : bodies) {
      std::string compressed = gzip(body);
      if (reachable_ && spool_.depth() == 0) {
        std::string error;
        auto outcome = deliver(compressed, body, error);
        if (outcome == Outcome::kDelivered) continue;
        if (outcome == Outcome::kRejected) {
          log::error("InfluxDB rejected a telemetry batch", {{"error", error}});
          throw core::Invalid("readings", "InfluxDB rejected the batch: " + error);
        }
        set_unreachable(error);
      }
      // Behind whatever is already spooled, so that replay keeps the write order.
      spool_.push(compressed);
      depth_gauge_.set(static_cast<double>(spool_.depth()));
      wake_.notify_all();
    }
  }

  std::vector<Series> read_raw(const RawQuery& query) override {
    validate_range(query.metrics, query.from_ms, query.to_ms);
    std::vector<Series> out;
    for (const auto& metric : query.metrics) out.push_back(Series{metric, {}});
    if (query.limit == 0) return out;
    std::string q;
    for (const auto& metric : query.metrics) {
      q += "SELECT " + quote_identifier(metric) + " FROM " + quote_identifier(kMeasurement) + " WHERE " +
           series_filter(query.factory, query.device) + " AND time >= " + ms(query.from_ms) + " AND time < " +
           ms(query.to_ms) + " ORDER BY time ASC LIMIT " + std::to_string(query.limit) + ";";
    }
    auto results = run(q);
    for (std::size_t i = 0; i < out.size() && i < results.size(); ++i)
      out[i].points = points_of(results[i], 1);
    return out;
  }

  std::vector<Series> read_aggregate(const AggregateQuery& query) override {
    validate_range(query.metrics, query.from_ms, query.to_ms);
    const auto interval = query.interval_ms;
    if (interval <= 0 || interval > kDayMs || kDayMs % interval != 0) {
      throw core::Invalid("interval", "must divide one day, or be exactly one day");
    }
    const date::time_zone* zone = nullptr;
    std::string group = "GROUP BY time(" + ms(interval) + ")";
    if (interval == kDayMs) {
      zone = zone_or_invalid(query.timezone);
      group = "GROUP BY time(1d)";
    }
    std::string tail = " fill(none)";
    if (zone) tail += " tz(" + quote_literal(query.timezone) + ")";
    // Buckets wholly older than a few hours come from the rollups (hundreds of rows instead of
    // millions of points, and still there after raw retention); newer buckets from raw points.
    // Rollups serve only from a rollup boundary on, so that no point before from_ms counts.
    std::int64_t split = query.from_ms;  // [from, split): rollups; [split, to): raw points
    std::string rollup;
    if (rollups_ && interval >= kMinuteMs) {
      const bool hourly =
          interval % kHourMs == 0 &&
          (!zone || (whole_hour_offset(zone, query.from_ms) && whole_hour_offset(zone, query.to_ms)));
      const std::int64_t step = hourly ? kHourMs : kMinuteMs;
      if (interval % step == 0 && floor_to(query.from_ms, step) == query.from_ms) {
        std::int64_t boundary = std::min(query.to_ms, now_ms() - kRollupsFinalAfterMs);
        boundary = zone ? local_day_floor(zone, boundary) : floor_to(boundary, interval);
        if (boundary > query.from_ms) {
          split = boundary;
          rollup = hourly ? "telemetry_1h" : "telemetry_1m";
        }
      }
    }
    auto where = [&](std::int64_t from, std::int64_t to) {
      return " WHERE " + series_filter(query.factory, query.device) + " AND time >= " + ms(from) +
             " AND time < " + ms(to) + " ";
    };
    std::string q;
    const bool use_raw = split < query.to_ms;
    if (use_raw) {
      for (const auto& metric : query.metrics) {
        q += "SELECT " + influx_function(query.aggregate) + "(" + quote_identifier(metric) + ") FROM " +
             quote_identifier(kMeasurement) + where(split, query.to_ms) + group + tail + ";";
      }
    }
    if (!rollup.empty()) {
      if (!refresh_rollups()) throw core::Unavailable("InfluxDB is unreachable");
      for (const auto& metric : query.metrics) {
        q += "SELECT " + rollup_expression(query.aggregate, metric) + " FROM " +
             quote_identifier(kRollupPolicy) + "." + quote_identifier(rollup) + where(query.from_ms, split) +
             group + tail + ";";
      }
    }
    auto results = run(q);
    std::vector<Series> out;
    const std::size_t n = query.metrics.size();
    const std::size_t rollup_offset = use_raw ? n : 0;
    for (std::size_t i = 0; i < n; ++i) {
      Series series{query.metrics[i], {}};
      if (!rollup.empty() && rollup_offset + i < results.size()) {
        series.points = query.aggregate == Aggregate::kAvg ? ratio_points_of(results[rollup_offset + i])
                                                           : points_of(results[rollup_offset + i], 1);
      }
      if (use_raw && i < results.size()) {
        auto raw = points_of(results[i], 1);
        series.points.insert(series.points.end(), raw.begin(), raw.end());
      }
      out.push_back(std::move(series));
    }
    return out;
  }

  std::vector<LatestValue> latest(const core::FactoryId& factory, const core::DeviceId& device,
                                  std::span<const std::string> metrics) override {
    const std::string from =
        " FROM " + quote_identifier(kMeasurement) + " WHERE " + series_filter(factory, device);
    std::vector<std::string> wanted(metrics.begin(), metrics.end());
    if (wanted.empty()) {
      auto results = run("SELECT last(*)" + from);
      if (!results.empty()) {
        for (const auto& s : results[0].series) {
          if (s.values.empty()) continue;
          for (std::size_t c = 1; c < s.columns.size() && c < s.values[0].size(); ++c) {
            if (!s.values[0][c].is_null() && s.columns[c].rfind("last_", 0) == 0) {
              wanted.push_back(s.columns[c].substr(5));
            }
          }
        }
      }
    }
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    std::vector<LatestValue> out;
    if (wanted.empty()) return out;
    std::string q;
    for (const auto& metric : wanted) q += "SELECT last(" + quote_identifier(metric) + ")" + from + ";";
    auto results = run(q);
    for (std::size_t i = 0; i < wanted.size() && i < results.size(); ++i) {
      auto points = points_of(results[i], 1);
      if (!points.empty()) out.push_back(LatestValue{wanted[i], points.back().ts_ms, points.back().value});
    }
    return out;
  }

  void apply_retention(const core::FactoryId& factory, const RetentionPolicy& policy,
                       std::int64_t now) override {
    // Late points must reach the rollups before their raw points may go.
    if (rollups_ && !refresh_rollups()) throw core::Unavailable("InfluxDB is unreachable");
    const std::string who = "\"factory_id\"=" + quote_literal(factory.str());
    std::string q = "DELETE FROM " + quote_identifier(kMeasurement) + " WHERE " + who + " AND time < " +
                    ms(now - policy.raw_days * kDayMs) + ";";
    if (rollups_) {
      for (std::string_view m : {"telemetry_1m", "telemetry_1h"}) {
        q += "DELETE FROM " + quote_identifier(m) + " WHERE " + who + " AND time < " +
             ms(now - policy.rollup_days * kDayMs) + ";";
      }
    }
    run(q);
  }

  StorageUsage usage(const core::FactoryId& factory) override {
    auto results = run("SELECT count(*) FROM " + quote_identifier(kMeasurement) +
                       " WHERE \"factory_id\"=" + quote_literal(factory.str()) + " GROUP BY \"device_id\"");
    StorageUsage usage;
    if (results.empty()) return usage;
    for (const auto& s : results[0].series) {
      for (const auto& row : s.values) {
        for (std::size_t c = 1; c < row.size(); ++c) {
          auto count = cell_double(row[c]);
          if (count && *count > 0) ++usage.series;
        }
      }
    }
    return usage;
  }

  StoreStatus status() override {
    StoreStatus s;
    s.reachable = reachable_;
    s.spooled_batches = spool_.depth();
    std::lock_guard lock(detail_mutex_);
    s.detail = reachable_ ? "InfluxDB answers" : detail_;
    if (s.spooled_batches > 0) s.detail += "; spooled: " + spool_.describe();
    return s;
  }

  void flush() override {
    if (spool_.depth() > 0) {
      if (http_.ping().status != 204) return;
      ensure_schema();
      if (!replay_all()) return;
    }
    refresh_rollups();
  }

 private:
  enum class Outcome { kDelivered, kUnavailable, kRejected };

  // Sends one body, then rolls up its late points. `plain` is the uncompressed body when the
  // caller has it (empty: decompress).
  Outcome deliver(const std::string& compressed, std::string_view plain, std::string& error) {
    auto response = http_.write(compressed);
    if (!response.delivered) {
      error = "InfluxDB unreachable: " + response.transport_error;
      return Outcome::kUnavailable;
    }
    if (response.status == 404) schema_ready_ = false;  // database dropped or not yet created
    if (response.status >= 500 || response.status == 401 || response.status == 403 ||
        response.status == 404 || response.status == 429) {
      error = "InfluxDB answered " + std::to_string(response.status) + ": " + response.body.substr(0, 200);
      return Outcome::kUnavailable;
    }
    if (response.status != 204 && response.status != 200) {
      error = "InfluxDB answered " + std::to_string(response.status) + ": " + response.body.substr(0, 300);
      return Outcome::kRejected;
    }
    if (!rollups_) return Outcome::kDelivered;
    std::string decompressed;
    if (plain.empty()) {
      decompressed = gunzip(compressed);
      plain = decompressed;
    }
    mark_dirty(spans_of_lines(plain, now_ms() - kLateAfterMs));
    return Outcome::kDelivered;
  }

  // Late points (older than the continuous queries look) are rolled up by the engine: their
  // minutes are remembered here and rolled up in the background, coalesced per device, and
  // before anything reads or deletes rollups. A crash forgets the ranges not yet rolled up
  // (their raw points are stored; see docs/tsdb-influxdb.md).
  void mark_dirty(const std::vector<LineSpan>& spans) {
    if (spans.empty()) return;
    std::lock_guard lock(dirty_mutex_);
    for (const auto& span : spans) {
      dirty_[{span.factory, span.device}].emplace_back(floor_to(span.min_ts, kMinuteMs),
                                                       floor_to(span.max_ts, kMinuteMs) + kMinuteMs);
    }
  }

  bool has_dirty() {
    std::lock_guard lock(dirty_mutex_);
    return !dirty_.empty();
  }

  // Returns false (keeping the ranges) when InfluxDB did not answer.
  bool refresh_rollups() {
    std::lock_guard refreshing(refresh_mutex_);
    DirtyRanges work;
    {
      std::lock_guard lock(dirty_mutex_);
      work.swap(dirty_);
    }
    if (work.empty()) return true;
    // One statement per factory and time range covers many devices: InfluxDB's cost is mostly
    // per statement. Devices rolled up without need get the same values again.
    std::map<std::string,
             std::pair<std::vector<std::string>, std::vector<std::pair<std::int64_t, std::int64_t>>>>
        by_factory;
    for (const auto& [key, ranges] : work) {
      auto& entry = by_factory[key.first];
      entry.first.push_back(key.second);
      entry.second.insert(entry.second.end(), ranges.begin(), ranges.end());
    }
    constexpr std::size_t kDevicesPerStatement = 100;
    std::vector<std::string> statements;
    for (auto& [factory, entry] : by_factory) {
      auto& [devices, ranges] = entry;
      std::sort(ranges.begin(), ranges.end());
      std::vector<std::pair<std::int64_t, std::int64_t>> merged;
      for (const auto& r : ranges) {
        if (!merged.empty() && r.first <= merged.back().second) {
          merged.back().second = std::max(merged.back().second, r.second);
        } else {
          merged.push_back(r);
        }
      }
      for (std::size_t d = 0; d < devices.size(); d += kDevicesPerStatement) {
        std::string device_filter;
        for (std::size_t i = d; i < std::min(devices.size(), d + kDevicesPerStatement); ++i) {
          device_filter += (i == d ? "" : " OR ") + std::string("\"device_id\"=") + quote_literal(devices[i]);
        }
        const std::string where = " FROM " + quote_identifier(kMeasurement) +
                                  " WHERE \"factory_id\"=" + quote_literal(factory) + " AND (" +
                                  device_filter + ") AND time >= ";
        const std::string select = "SELECT count(*),min(*),max(*),sum(*),first(*),last(*) INTO " +
                                   quote_identifier(kRollupPolicy) + ".";
        // At most an hour per statement and a few per request, so that a backlog of any size never
        // runs into the query timeout.
        for (const auto& [from, to] : merged) {
          for (std::int64_t begin = from; begin < to;) {
            const std::int64_t end = std::min(to, floor_to(begin, kHourMs) + kHourMs);
            statements.push_back(select + quote_identifier("telemetry_1m") + where + ms(begin) +
                                 " AND time < " + ms(end) +
                                 " GROUP BY time(1m),\"device_id\",\"factory_id\" fill(none)");
            statements.push_back(select + quote_identifier("telemetry_1h") + where +
                                 ms(floor_to(begin, kHourMs)) + " AND time < " +
                                 ms(floor_to(end - 1, kHourMs) + kHourMs) +
                                 " GROUP BY time(1h),\"device_id\",\"factory_id\" fill(none)");
            begin = end;
          }
        }
      }
    }
    constexpr std::size_t kStatementsPerRequest = 4;
    for (std::size_t i = 0; i < statements.size(); i += kStatementsPerRequest) {
      std::string q;
      for (std::size_t j = i; j < std::min(statements.size(), i + kStatementsPerRequest); ++j) {
        q += statements[j] + ";";
      }
      auto response = http_.query(q);
      if (!response.delivered || response.status >= 500) {
        // Rolling up again what already succeeded is harmless: same buckets, same values.
        std::lock_guard lock(dirty_mutex_);
        for (auto& [key, ranges] : work) {
          auto& target = dirty_[key];
          target.insert(target.end(), ranges.begin(), ranges.end());
        }
        return false;
      }
      if (response.status != 200) {
        log::warn("InfluxDB refused a rollup query", {{"status", std::int64_t{response.status}}});
      }
    }
    return true;
  }

  std::vector<StatementResult> run(const std::string& q) {
    auto response = http_.query(q);
    if (!response.delivered) {
      set_unreachable("InfluxDB unreachable: " + response.transport_error);
      throw core::Unavailable("InfluxDB is unreachable");
    }
    if (response.status == 401 || response.status == 403)
      throw core::Unavailable("InfluxDB refused the credentials");
    if (response.status >= 500)
      throw core::Unavailable("InfluxDB answered " + std::to_string(response.status));
    std::vector<StatementResult> results;
    try {
      results = parse_query_answer(response.body);
    } catch (const std::exception& e) {
      throw core::Unavailable(std::string("InfluxDB answer unreadable: ") + e.what());
    }
    for (const auto& r : results) {
      if (r.error.empty()) continue;
      if (r.error.find("database not found") != std::string::npos) {
        schema_ready_ = false;
        throw core::Unavailable("InfluxDB: " + r.error);
      }
      throw std::runtime_error("InfluxDB query failed: " + r.error);
    }
    return results;
  }

  static std::vector<Point> points_of(const StatementResult& result, std::size_t column) {
    std::vector<Point> points;
    for (const auto& s : result.series) {
      for (const auto& row : s.values) {
        if (row.size() <= column) continue;
        auto ts = cell_int(row[0]);
        auto value = cell_double(row[column]);
        if (ts && value) points.push_back(Point{*ts, *value});
      }
    }
    return points;
  }

  // Rows of (time, sum, count): the average of each bucket.
  static std::vector<Point> ratio_points_of(const StatementResult& result) {
    std::vector<Point> points;
    for (const auto& s : result.series) {
      for (const auto& row : s.values) {
        if (row.size() < 3) continue;
        auto ts = cell_int(row[0]);
        auto sum = cell_double(row[1]);
        auto count = cell_double(row[2]);
        if (ts && sum && count && *count > 0) points.push_back(Point{*ts, *sum / *count});
      }
    }
    return points;
  }

  // Creates the database, the retention policies and the continuous queries when missing.
  // InfluxDB 2.x and 3.x provision databases themselves and have neither CREATE nor
  // continuous queries: there, rollups are off and raw points answer everything.
  void ensure_schema() {
    std::lock_guard lock(schema_mutex_);
    if (schema_ready_) return;
    const std::string db = quote_identifier(http_.endpoint().database);
    auto ok = [&](const std::string& statement) {
      auto r = http_.query(statement);
      if (!r.delivered) return false;
      try {
        auto results = parse_query_answer(r.body);
        bool good = r.status == 200;
        for (const auto& s : results) {
          if (!s.error.empty() && s.error.find("already exists") == std::string::npos) {
            log::debug("InfluxDB schema statement refused", {{"error", s.error}});
            good = false;
          }
        }
        return good;
      } catch (const std::exception&) {
        return false;
      }
    };
    ok("CREATE DATABASE " + db);
    bool raw = ok("CREATE RETENTION POLICY " + quote_identifier(kRawPolicy) + " ON " + db + " DURATION " +
                  std::string(kRawDuration) + " REPLICATION 1 DEFAULT");
    if (!raw) {
      raw = ok("ALTER RETENTION POLICY " + quote_identifier(kRawPolicy) + " ON " + db + " DURATION " +
               std::string(kRawDuration) + " DEFAULT");
    }
    bool rollup = raw && ok("CREATE RETENTION POLICY " + quote_identifier(kRollupPolicy) + " ON " + db +
                            " DURATION " + std::string(kRollupDuration) + " REPLICATION 1");
    if (raw && !rollup) {
      rollup = ok("ALTER RETENTION POLICY " + quote_identifier(kRollupPolicy) + " ON " + db + " DURATION " +
                  std::string(kRollupDuration));
    }
    if (rollup) {
      auto cq = [&](std::string_view name, std::string_view every, std::string_view window,
                    std::string_view step) {
        return ok("CREATE CONTINUOUS QUERY " + quote_identifier(name) + " ON " + db + " RESAMPLE EVERY " +
                  std::string(every) + " FOR " + std::string(window) +
                  " BEGIN SELECT count(*),min(*),max(*),sum(*),first(*),last(*) INTO " + db + "." +
                  quote_identifier(kRollupPolicy) + "." + quote_identifier(name) + " FROM " + db + "." +
                  quote_identifier(kRawPolicy) + "." + quote_identifier(kMeasurement) + " GROUP BY time(" +
                  std::string(step) + "),* END");
      };
      rollup = cq("telemetry_1m", "1m", "1h", "1m") && cq("telemetry_1h", "10m", "2h", "1h");
    }
    rollups_ = rollup;
    if (!rollup) {
      log::info("InfluxDB: no retention policies or continuous queries (2.x/3.x?); rollups are off",
                {{"database", http_.endpoint().database}});
    }
    schema_ready_ = true;
  }

  void set_unreachable(const std::string& why) {
    if (reachable_.exchange(false)) log::warn("InfluxDB unavailable; spooling telemetry", {{"error", why}});
    std::lock_guard lock(detail_mutex_);
    detail_ = why.substr(0, 200);
  }

  // Replays spooled bodies oldest first until the spool is empty or InfluxDB fails again.
  // Returns true when the spool was emptied.
  bool replay_all() {
    while (true) {
      std::unique_lock order(order_);
      std::optional<std::string> record;
      try {
        record = spool_.front();
      } catch (const core::Unavailable& e) {
        log::warn("telemetry spool unreadable", {{"error", e.what()}});
        return false;
      }
      if (!record) {
        if (spool_.depth() > 0) return false;  // held by a Redis that is down
        if (!reachable_.exchange(true)) log::info("InfluxDB available again; spool drained");
        return true;
      }
      std::string error;
      auto outcome = deliver(*record, {}, error);
      if (outcome == Outcome::kUnavailable) {
        set_unreachable(error);
        return false;
      }
      if (outcome == Outcome::kRejected) {
        // Retrying a batch InfluxDB calls invalid can never succeed; it would block the rest.
        log::error("InfluxDB rejected a spooled telemetry batch; removing it from the spool",
                   {{"error", error}});
        rejected_counter_.inc();
      } else {
        replayed_counter_.inc();
      }
      try {
        spool_.pop();
      } catch (const core::Unavailable& e) {
        log::warn("telemetry spool: cannot remove a replayed batch yet", {{"error", e.what()}});
        return false;
      }
      depth_gauge_.set(static_cast<double>(spool_.depth()));
    }
  }

  void replay_loop() {
    auto last_refresh = std::chrono::steady_clock::now();
    while (true) {
      {
        std::unique_lock lock(wake_mutex_);
        wake_.wait_for(lock, kReplayPause, [this] { return stop_; });
        if (stop_) return;
      }
      try {
        if (reachable_ && spool_.depth() == 0) {
          // Rolling up every few seconds lets a backlog upload coalesce into few queries.
          auto now = std::chrono::steady_clock::now();
          if (has_dirty() && now - last_refresh >= kRollupPause) {
            last_refresh = now;
            refresh_rollups();
          }
          continue;
        }
        if (http_.ping().status != 204) continue;
        ensure_schema();
        if (replay_all()) refresh_rollups();
      } catch (const std::exception& e) {
        log::warn("telemetry spool replay failed", {{"error", e.what()}});
      }
    }
  }

  HttpClient http_;
  BatchSpool spool_;
  core::metrics::Gauge& depth_gauge_;
  core::metrics::Counter& replayed_counter_;
  core::metrics::Counter& rejected_counter_;

  // Direct writes share it; replay takes it exclusively per batch, so a write never overtakes
  // a spooled batch that is being replayed.
  std::shared_mutex order_;
  std::atomic<bool> reachable_{false};
  std::atomic<bool> schema_ready_{false};
  std::atomic<bool> rollups_{false};
  std::mutex schema_mutex_;
  std::mutex detail_mutex_;
  using DirtyRanges =
      std::map<std::pair<std::string, std::string>, std::vector<std::pair<std::int64_t, std::int64_t>>>;
  std::mutex refresh_mutex_;
  std::mutex dirty_mutex_;
  DirtyRanges dirty_;  // (factory, device) -> minute ranges whose rollups are stale
  std::string detail_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread replayer_;
};

}  // namespace
}  // namespace influx

std::unique_ptr<TelemetryStore> open_influx_store(const InfluxOptions& options) {
  return std::make_unique<influx::InfluxStore>(options);
}

}  // namespace factoryops::tsdb
