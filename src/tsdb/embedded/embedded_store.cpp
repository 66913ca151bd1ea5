#include "tsdb/embedded/embedded_store.hpp"

#include <date/tz.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "tsdb/embedded/blocks.hpp"
#include "tsdb/embedded/codec.hpp"
#include "tsdb/embedded/sqlite_file.hpp"
#include "tsdb/embedded/wal.hpp"

namespace factoryops::tsdb::embedded {
namespace {

constexpr const char* kInsertSeries = "INSERT INTO series (device, metric) VALUES (?, ?)";
constexpr const char* kLoadSeries = "SELECT id, device, metric, last_ts, last_value FROM series";
constexpr const char* kUpdateLast = "UPDATE series SET last_ts = ?, last_value = ? WHERE id = ?";
constexpr const char* kSelectBlock = "SELECT data FROM raw_blocks WHERE series_id = ? AND window_start = ?";
constexpr const char* kSelectBlocks =
    "SELECT window_start, data FROM raw_blocks WHERE series_id = ? AND window_start >= ? AND window_start < "
    "? "
    "ORDER BY window_start";
constexpr const char* kUpsertBlock =
    "INSERT OR REPLACE INTO raw_blocks (series_id, window_start, data) VALUES (?, ?, ?)";
constexpr const char* kUpsertRollup =
    "INSERT OR REPLACE INTO rollups_1m (series_id, window_start, data) VALUES (?, ?, ?)";
constexpr const char* kSelectHourRollups =
    "SELECT window_start, data FROM rollups_1h WHERE series_id = ? AND window_start >= ? AND window_start < "
    "? "
    "ORDER BY window_start";
constexpr const char* kSelectHourDay = "SELECT data FROM rollups_1h WHERE series_id = ? AND window_start = ?";
constexpr const char* kUpsertHourDay =
    "INSERT OR REPLACE INTO rollups_1h (series_id, window_start, data) VALUES (?, ?, ?)";
constexpr const char* kListBlocks =
    "SELECT window_start FROM raw_blocks WHERE series_id = ? AND window_start >= ? AND window_start < ?";
constexpr const char* kSelectRollup = "SELECT data FROM rollups_1m WHERE series_id = ? AND window_start = ?";
constexpr const char* kSelectRollups =
    "SELECT window_start, data FROM rollups_1m WHERE series_id = ? AND window_start >= ? AND window_start < "
    "? "
    "ORDER BY window_start";

// Timestamps beyond ±2^60 ms (36 million years) are refused on write and clipped from query
// ranges, so window arithmetic can never overflow.
constexpr std::int64_t kMaxAbsTs = std::int64_t{1} << 60;
// Day buckets are computed up front, one zone conversion per day.
constexpr std::int64_t kMaxDayBuckets = 200'000;

// The coarsest stored summaries a query may read.
enum class Level { kRaw, kMinutes, kHours };

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};
template <typename T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

struct SeriesState {
  std::int64_t id = 0;
  std::string metric;
  std::vector<Point> head;  // unsorted; the later of two equal timestamps wins
  bool has_last = false;
  std::int64_t last_ts = 0;
  double last_value = 0;
};

struct DeviceState {
  std::string device;
  StringMap<std::unique_ptr<SeriesState>> metrics;
};

struct FactoryState {
  std::string id;
  std::mutex db_mu;  // serialises use of `db`; taken after the store's mutex, never before it
  std::unique_ptr<SqliteFile> db;
  StringMap<std::unique_ptr<DeviceState>> devices;
  std::vector<SeriesState*> dirty;  // series with a non-empty head
  std::int64_t series_count = 0;
};

// Sorts by time and keeps the last written point of each timestamp.
void normalise(std::vector<Point>& points) {
  bool strictly_ascending = true;
  for (std::size_t i = 1; i < points.size() && strictly_ascending; ++i)
    strictly_ascending = points[i - 1].ts_ms < points[i].ts_ms;
  if (strictly_ascending) return;
  std::stable_sort(points.begin(), points.end(),
                   [](const Point& a, const Point& b) { return a.ts_ms < b.ts_ms; });
  std::size_t out = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i + 1 < points.size() && points[i + 1].ts_ms == points[i].ts_ms) continue;
    points[out++] = points[i];
  }
  points.resize(out);
}

// Merges ascending, unique `newer` into ascending, unique `older`; `newer` wins on equal time.
Columns merge(const Columns& older, const std::vector<Point>& newer) {
  Columns out;
  out.ts.reserve(older.size() + newer.size());
  out.values.reserve(older.size() + newer.size());
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < older.size() || j < newer.size()) {
    if (j == newer.size() || (i < older.size() && older.ts[i] < newer[j].ts_ms)) {
      out.ts.push_back(older.ts[i]);
      out.values.push_back(older.values[i++]);
    } else {
      if (i < older.size() && older.ts[i] == newer[j].ts_ms) ++i;
      out.ts.push_back(newer[j].ts_ms);
      out.values.push_back(newer[j++].value);
    }
  }
  return out;
}

void put_string(std::vector<std::uint8_t>& out, std::string_view text) {
  put_varint(out, text.size());
  out.insert(out.end(), text.begin(), text.end());
}
std::string_view get_string(ByteReader& in) {
  std::uint64_t n = get_varint(in);
  if (n > in.size - in.pos) throw std::runtime_error("corrupt log record");
  std::string_view text(reinterpret_cast<const char*>(in.data + in.pos), n);
  in.pos += n;
  return text;
}
std::uint64_t zz(std::int64_t v) {
  // The sign spread over all bits, without shifting a negative value.
  return (static_cast<std::uint64_t>(v) << 1) ^ (v < 0 ? ~std::uint64_t{0} : std::uint64_t{0});
}
std::int64_t unzz(std::uint64_t u) {
  return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
}

// One bucket being folded: inputs arrive in time order, so first and last need no timestamps.
struct Accumulator {
  std::int64_t start = 0;
  std::int64_t count = 0;
  double min = 0;
  double max = 0;
  double sum = 0;
  double first = 0;
  double last = 0;

  double value(Aggregate aggregate) const {
    switch (aggregate) {
      case Aggregate::kAvg: return sum / static_cast<double>(count);
      case Aggregate::kMin: return min;
      case Aggregate::kMax: return max;
      case Aggregate::kSum: return sum;
      case Aggregate::kCount: return static_cast<double>(count);
      case Aggregate::kFirst: return first;
      case Aggregate::kLast: return last;
    }
    return 0;
  }
};

// Maps a time to the start of its bucket: epoch-aligned fixed steps, or local calendar days.
class Bucketer {
 public:
  Bucketer(const AggregateQuery& query) : step_(query.interval_ms) {
    if (step_ != kDayMs) return;
    const date::time_zone* zone = nullptr;
    try {
      zone = date::locate_zone(query.timezone);
    } catch (const std::exception&) {
      throw core::Invalid("timezone", "is not a known IANA time zone");
    }
    using std::chrono::milliseconds;
    auto local = zone->to_local(date::sys_time<milliseconds>(milliseconds(query.from_ms)));
    auto day = date::floor<date::days>(local);
    while (true) {
      auto start = zone->to_sys(date::local_time<milliseconds>(day), date::choose::earliest);
      days_.push_back(start.time_since_epoch().count());
      if (days_.back() >= query.to_ms) break;
      day += date::days(1);
    }
  }

  std::int64_t start_of(std::int64_t ts) const {
    if (days_.empty()) return floor_to(ts, step_);
    auto it = std::upper_bound(days_.begin(), days_.end(), ts);
    return it == days_.begin() ? days_.front() : *(it - 1);
  }

  // Whether rollups of `step` can stand for raw points: every bucket is made of whole steps.
  bool aligned_to(std::int64_t step) const {
    if (days_.empty()) return step_ % step == 0;
    return std::all_of(days_.begin(), days_.end(), [step](std::int64_t d) { return floor_to(d, step) == d; });
  }

 private:
  std::int64_t step_;
  std::vector<std::int64_t> days_;
};

class Folder {
 public:
  explicit Folder(const Bucketer& bucketer) : bucketer_(bucketer) {}
  void add(std::int64_t ts, double v) {
    Accumulator& a = bucket(ts);
    if (a.count == 0) {
      a.min = a.max = a.first = v;
    } else {
      a.min = std::min(a.min, v);
      a.max = std::max(a.max, v);
    }
    a.last = v;
    a.sum += v;
    ++a.count;
  }
  void add(const Summary& s) {
    Accumulator& a = bucket(s.start);
    if (a.count == 0) {
      a.min = s.min;
      a.max = s.max;
      a.first = s.first;
    } else {
      a.min = std::min(a.min, s.min);
      a.max = std::max(a.max, s.max);
    }
    a.last = s.last;
    a.sum += s.sum;
    a.count += s.count;
  }
  std::vector<Point> finish(Aggregate aggregate) const {
    std::vector<Point> out;
    out.reserve(buckets_.size());
    for (const Accumulator& a : buckets_) out.push_back(Point{a.start, a.value(aggregate)});
    return out;
  }

 private:
  Accumulator& bucket(std::int64_t ts) {
    std::int64_t start = bucketer_.start_of(ts);
    if (buckets_.empty() || buckets_.back().start != start) buckets_.push_back(Accumulator{.start = start});
    return buckets_.back();
  }

  const Bucketer& bucketer_;
  std::vector<Accumulator> buckets_;
};

class EmbeddedStore final : public TelemetryStore {
 public:
  explicit EmbeddedStore(EmbeddedOptions options) : options_(std::move(options)) {
    std::error_code ec;
    std::filesystem::create_directories(options_.directory, ec);
    if (ec) throw core::Unavailable("telemetry directory: " + ec.message());
    wal_ = std::make_unique<WriteAheadLog>(options_.directory / "wal.log");
    std::lock_guard lock(mu_);
    std::size_t records =
        wal_->replay([this](std::span<const std::uint8_t> payload) { replay_record(payload); });
    if (records > 0) {
      log::info("telemetry log replayed", {{"records", static_cast<std::uint64_t>(records)}});
      flush_locked();
    }
    last_flush_ = std::chrono::steady_clock::now();
    flusher_ = std::thread([this] { run_flusher(); });
  }

  ~EmbeddedStore() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    flusher_.join();
    std::lock_guard lock(mu_);
    try {
      flush_locked();
    } catch (const std::exception& e) {
      log::error("telemetry flush at close failed; the log keeps the points", {{"error", e.what()}});
    }
  }

  std::string_view engine() const override { return "embedded"; }

  void write(std::span<const DeviceBatch> batches) override {
    std::lock_guard lock(mu_);
    // Resolve (and create) every series first, so a failure there acknowledges nothing.
    resolved_.clear();
    record_.clear();
    put_varint(record_, batches.size());
    for (const DeviceBatch& batch : batches) {
      FactoryState* factory = factory_locked(batch.factory.str(), true);
      DeviceState& device = device_locked(*factory, batch.device.str());
      put_string(record_, batch.factory.str());
      put_string(record_, batch.device.str());
      put_varint(record_, batch.readings.size());
      for (const Reading& reading : batch.readings) {
        if (reading.ts_ms < -kMaxAbsTs || reading.ts_ms > kMaxAbsTs)
          throw core::Invalid("ts_ms", "is out of range");
        put_varint(record_, zz(reading.ts_ms));
        put_varint(record_, reading.fields.size());
        for (const Field& field : reading.fields) {
          resolved_.push_back(&series_locked(*factory, device, field.key));
          put_string(record_, field.key);
          auto bits = std::bit_cast<std::uint64_t>(field.value);
          for (int i = 0; i < 8; ++i) record_.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
        }
      }
    }
    wal_->append(record_, options_.sync_on_write);
    std::size_t next = 0;
    for (const DeviceBatch& batch : batches) {
      FactoryState* factory = factories_.find(batch.factory.str())->second.get();
      for (const Reading& reading : batch.readings) {
        for (const Field& field : reading.fields)
          add_point(*factory, *resolved_[next++], reading.ts_ms, field.value);
      }
    }
    if (head_points_ >= kMaxHeadPoints) {
      // The batch is already durable in the log: a failed compaction is retried, not reported.
      try {
        flush_locked();
      } catch (const std::exception& e) {
        log::warn("telemetry compaction failed; retrying later", {{"error", e.what()}});
      }
    }
  }

  std::vector<Series> read_raw(const RawQuery& asked) override {
    check_range(asked.metrics, asked.from_ms, asked.to_ms);
    RawQuery query = asked;
    if (!clip(query.from_ms, query.to_ms)) return empty_answer(query.metrics);
    Snapshot snap = snapshot(query.factory, query.device, query.metrics, query.from_ms, query.to_ms);
    std::vector<Series> out;
    for (std::size_t m = 0; m < query.metrics.size(); ++m) {
      Series series{.metric = query.metrics[m], .points = {}};
      if (snap.ids[m] != 0) {
        Columns stored;
        {
          std::lock_guard db_lock(snap.factory->db_mu);
          StatementUse rows(*snap.factory->db, kSelectBlocks);
          rows.bind(1, snap.ids[m]).bind(2, floor_to(query.from_ms, kWindowMs)).bind(3, query.to_ms);
          Columns block;
          // Merging can displace at most one stored point per head point, so the first
          // limit + head points stored are enough for the oldest `limit` of the answer.
          const std::size_t enough = query.limit + snap.heads[m].size();
          while (stored.size() < enough && rows.step()) {
            block.clear();
            decode(rows.blob(1), block);
            for (std::size_t i = 0; i < block.size(); ++i) {
              if (block.ts[i] < query.from_ms || block.ts[i] >= query.to_ms) continue;
              stored.ts.push_back(block.ts[i]);
              stored.values.push_back(block.values[i]);
            }
          }
        }
        Columns merged = merge(stored, snap.heads[m]);
        std::size_t n = std::min(merged.size(), query.limit);
        series.points.reserve(n);
        for (std::size_t i = 0; i < n; ++i) series.points.push_back(Point{merged.ts[i], merged.values[i]});
      }
      out.push_back(std::move(series));
    }
    return out;
  }

  std::vector<Series> read_aggregate(const AggregateQuery& asked) override {
    check_range(asked.metrics, asked.from_ms, asked.to_ms);
    AggregateQuery query = asked;
    if (query.interval_ms <= 0 ||
        (query.interval_ms != kDayMs && (query.interval_ms > kDayMs || kDayMs % query.interval_ms != 0))) {
      throw core::Invalid("interval", "must divide one day or be one day");
    }
    if (!clip(query.from_ms, query.to_ms)) return empty_answer(query.metrics);
    if (query.interval_ms == kDayMs && (query.to_ms - query.from_ms) / kDayMs > kMaxDayBuckets)
      throw core::Invalid("to", "day buckets span at most 200000 days");
    Bucketer bucketer(query);
    Level level = bucketer.aligned_to(kHourMs)     ? Level::kHours
                  : bucketer.aligned_to(kMinuteMs) ? Level::kMinutes
                                                   : Level::kRaw;
    Snapshot snap = snapshot(query.factory, query.device, query.metrics, query.from_ms, query.to_ms);
    std::vector<Series> out;
    for (std::size_t m = 0; m < query.metrics.size(); ++m) {
      Series series{.metric = query.metrics[m], .points = {}};
      if (snap.ids[m] != 0) {
        Folder folder(bucketer);
        std::lock_guard db_lock(snap.factory->db_mu);
        aggregate_series(*snap.factory, snap.ids[m], snap.heads[m], query.from_ms, query.to_ms, level,
                         folder);
        series.points = folder.finish(query.aggregate);
      }
      out.push_back(std::move(series));
    }
    return out;
  }

  std::vector<LatestValue> latest(const core::FactoryId& factory_id, const core::DeviceId& device_id,
                                  std::span<const std::string> metrics) override {
    std::lock_guard lock(mu_);
    std::vector<LatestValue> out;
    FactoryState* factory = factory_locked(factory_id.str(), false);
    if (!factory) return out;
    auto device = factory->devices.find(device_id.str());
    if (device == factory->devices.end()) return out;
    for (const auto& [metric, series] : device->second->metrics) {
      if (!series->has_last) continue;
      if (!metrics.empty() && std::find(metrics.begin(), metrics.end(), metric) == metrics.end()) continue;
      out.push_back(LatestValue{.metric = metric, .ts_ms = series->last_ts, .value = series->last_value});
    }
    std::sort(out.begin(), out.end(),
              [](const LatestValue& a, const LatestValue& b) { return a.metric < b.metric; });
    return out;
  }

  void apply_retention(const core::FactoryId& factory_id, const RetentionPolicy& policy,
                       std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    FactoryState* factory = factory_locked(factory_id.str(), false);
    if (!factory) return;
    flush_locked();
    std::lock_guard db_lock(factory->db_mu);
    SqliteFile& db = *factory->db;
    std::int64_t raw_cut = now_ms - static_cast<std::int64_t>(policy.raw_days) * kDayMs;
    std::int64_t rollup_cut = now_ms - static_cast<std::int64_t>(policy.rollup_days) * kDayMs;
    db.exec("BEGIN IMMEDIATE");
    try {
      trim(db, "raw_blocks", raw_cut, kWindowMs, 0);
      trim(db, "rollups_1m", rollup_cut, kWindowMs, kMinuteMs);
      trim(db, "rollups_1h", rollup_cut, kDayMs, kHourMs);
      db.exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    // Hand freed pages back to the file system so the file stops growing.
    db.exec("PRAGMA incremental_vacuum");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  StorageUsage usage(const core::FactoryId& factory_id) override {
    std::lock_guard lock(mu_);
    StorageUsage out{.bytes = 0, .series = 0};
    FactoryState* factory = factory_locked(factory_id.str(), false);
    if (!factory) return out;
    out.series = factory->series_count;
    std::int64_t bytes = 0;
    for (const char* suffix : {".db", ".db-wal", ".db-shm"}) {
      std::error_code ec;
      auto size = std::filesystem::file_size(options_.directory / (factory->id + suffix), ec);
      if (!ec) bytes += static_cast<std::int64_t>(size);
    }
    out.bytes = bytes;
    return out;
  }

  StoreStatus status() override {
    std::lock_guard lock(mu_);
    return StoreStatus{.reachable = true,
                       .spooled_batches = 0,
                       .detail = "embedded, " + std::to_string(head_points_) + " points in memory"};
  }

  void flush() override {
    std::lock_guard lock(mu_);
    flush_locked();
    for (auto& [id, factory] : factories_) {
      std::lock_guard db_lock(factory->db_mu);
      factory->db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
  }

 private:
  struct Snapshot {
    FactoryState* factory = nullptr;
    std::vector<std::int64_t> ids;          // 0 when the series does not exist
    std::vector<std::vector<Point>> heads;  // unflushed points in range, normalised
  };

  // Narrows [from, to) to the storable range; false when nothing is left.
  static bool clip(std::int64_t& from, std::int64_t& to) {
    from = std::max(from, -kMaxAbsTs);
    to = std::min(to, kMaxAbsTs + 1);
    return from < to;
  }

  static std::vector<Series> empty_answer(const std::vector<std::string>& metrics) {
    std::vector<Series> out;
    for (const std::string& metric : metrics) out.push_back(Series{.metric = metric, .points = {}});
    return out;
  }

  static void check_range(const std::vector<std::string>& metrics, std::int64_t from, std::int64_t to) {
    if (metrics.empty()) throw core::Invalid("metrics", "at least one metric is required");
    if (from >= to) throw core::Invalid("from", "must be before to");
  }

  static void decode(std::span<const std::uint8_t> blob, Columns& out) {
    try {
      decode_raw_block(blob, out);
    } catch (const std::runtime_error& e) {
      throw core::Unavailable(std::string("telemetry block: ") + e.what());
    }
  }

  // Copies what queries need from memory; SQLite is read afterwards without the store mutex.
  // A flush in between only moves points from the copy into blocks, and merging dedupes them.
  Snapshot snapshot(const core::FactoryId& factory_id, const core::DeviceId& device_id,
                    const std::vector<std::string>& metrics, std::int64_t from, std::int64_t to) {
    std::lock_guard lock(mu_);
    Snapshot snap;
    snap.ids.assign(metrics.size(), 0);
    snap.heads.resize(metrics.size());
    snap.factory = factory_locked(factory_id.str(), false);
    if (!snap.factory) return snap;
    auto device = snap.factory->devices.find(device_id.str());
    if (device == snap.factory->devices.end()) return snap;
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      auto it = device->second->metrics.find(metrics[m]);
      if (it == device->second->metrics.end()) continue;
      snap.ids[m] = it->second->id;
      for (const Point& p : it->second->head) {
        if (p.ts_ms >= from && p.ts_ms < to) snap.heads[m].push_back(p);
      }
      normalise(snap.heads[m]);
    }
    return snap;
  }

  // Folds one series into buckets window by window, in time order. Within a window without
  // unflushed points, whole hours of [from, to) come from hourly rollups (when `level` is
  // kHours), whole minutes from minute rollups, and the unaligned rest from raw points. Windows
  // with unflushed points, and every window at level kRaw, are read from raw points.
  void aggregate_series(FactoryState& factory, std::int64_t id, const std::vector<Point>& head,
                        std::int64_t from, std::int64_t to, Level level, Folder& folder) {
    SqliteFile& db = *factory.db;
    std::int64_t first_window = floor_to(from, kWindowMs);
    std::map<std::int64_t, std::vector<std::uint8_t>> minutes;
    std::map<std::int64_t, std::vector<Summary>> hours;  // by window
    std::map<std::int64_t, std::vector<std::uint8_t>> raws;
    std::vector<std::int64_t> windows;
    for (const Point& p : head) windows.push_back(floor_to(p.ts_ms, kWindowMs));
    windows.erase(std::unique(windows.begin(), windows.end()), windows.end());
    auto partial = [&](std::int64_t w) { return w < from || w + kWindowMs > to; };
    db.exec("BEGIN");
    try {
      if (level == Level::kHours) {
        StatementUse rows(db, kSelectHourRollups);
        rows.bind(1, id).bind(2, floor_to(from, kDayMs)).bind(3, to);
        std::vector<Summary> day;
        while (rows.step()) {
          day.clear();
          decode_summaries(rows.blob(1), day);
          for (const Summary& s : day) {
            if (s.start >= first_window && s.start < to) hours[floor_to(s.start, kWindowMs)].push_back(s);
          }
        }
      }
      if (level == Level::kMinutes) {
        StatementUse rows(db, kSelectRollups);
        rows.bind(1, id).bind(2, first_window).bind(3, to);
        while (rows.step()) {
          auto blob = rows.blob(1);
          minutes.emplace(rows.int64(0), std::vector<std::uint8_t>(blob.begin(), blob.end()));
        }
      } else if (level == Level::kHours) {
        // With hourly rollups, minutes only fill the unaligned edges of the range.
        for (std::int64_t w : {first_window, floor_to(to - 1, kWindowMs)}) {
          if (!partial(w) || minutes.contains(w)) continue;
          StatementUse row(db, kSelectRollup);
          row.bind(1, id).bind(2, w);
          if (row.step()) {
            auto blob = row.blob(0);
            minutes.emplace(w, std::vector<std::uint8_t>(blob.begin(), blob.end()));
          }
        }
      }
      if (level == Level::kRaw) {
        StatementUse rows(db, kSelectBlocks);
        rows.bind(1, id).bind(2, first_window).bind(3, to);
        while (rows.step()) {
          auto blob = rows.blob(1);
          raws.emplace(rows.int64(0), std::vector<std::uint8_t>(blob.begin(), blob.end()));
        }
      } else {
        // List windows from the index alone; fetch only the blocks rollups cannot replace.
        std::vector<std::int64_t> needed;
        {
          StatementUse list(db, kListBlocks);
          list.bind(1, id).bind(2, first_window).bind(3, to);
          while (list.step()) {
            std::int64_t w = list.int64(0);
            bool in_head = std::binary_search(windows.begin(), windows.end(), w);
            bool covered = level == Level::kHours ? hours.contains(w) : minutes.contains(w);
            if (partial(w) || in_head || !covered) needed.push_back(w);
          }
        }
        for (std::int64_t w : needed) {
          StatementUse row(db, kSelectBlock);
          row.bind(1, id).bind(2, w);
          if (row.step()) {
            auto blob = row.blob(0);
            raws.emplace(w, std::vector<std::uint8_t>(blob.begin(), blob.end()));
          }
        }
      }
      db.exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    for (const auto& [w, blob] : minutes) windows.push_back(w);
    for (const auto& [w, list] : hours) windows.push_back(w);
    for (const auto& [w, blob] : raws) windows.push_back(w);
    std::sort(windows.begin(), windows.end());
    windows.erase(std::unique(windows.begin(), windows.end()), windows.end());

    std::size_t h = 0;
    Columns block;
    std::vector<Summary> minute_list;
    for (std::int64_t w : windows) {
      std::int64_t lo = std::max(from, w);
      std::int64_t hi = std::min(to, w + kWindowMs);
      std::vector<Point> window_head;
      while (h < head.size() && head[h].ts_ms < w + kWindowMs) window_head.push_back(head[h++]);
      auto minute_row = minutes.find(w);
      auto hour_list = hours.find(w);
      auto raw = raws.find(w);
      bool clean = window_head.empty();
      bool use_hours = clean && level == Level::kHours && hour_list != hours.end();
      bool use_minutes = clean && level != Level::kRaw && minute_row != minutes.end();
      // Segments of the window: raw [lo, m_lo), minutes [m_lo, h_lo), hours [h_lo, h_hi),
      // minutes [h_hi, m_hi), raw [m_hi, hi). A source that is missing has an empty segment.
      std::int64_t m_lo = hi;
      std::int64_t m_hi = hi;
      if (use_minutes || use_hours) {
        m_lo = std::min(floor_to(lo + kMinuteMs - 1, kMinuteMs), hi);
        m_hi = std::max(floor_to(hi, kMinuteMs), m_lo);
      }
      std::int64_t h_lo = m_hi;
      std::int64_t h_hi = m_hi;
      if (use_hours) {
        h_lo = std::min(floor_to(lo + kHourMs - 1, kHourMs), m_hi);
        h_hi = std::max(floor_to(hi, kHourMs), h_lo);
        if (!use_minutes && (h_lo != m_lo || h_hi != m_hi)) {
          // Unaligned edges but no minute rollups: read those edges raw.
          m_lo = h_lo;
          m_hi = h_hi;
        }
      }
      block.clear();
      // No raw block although one is needed: retention removed it, so its points are gone.
      if (raw != raws.end()) decode(raw->second, block);
      Columns points = merge(block, window_head);
      std::size_t i = 0;
      for (; i < points.size() && points.ts[i] < m_lo; ++i) {
        if (points.ts[i] >= lo) folder.add(points.ts[i], points.values[i]);
      }
      minute_list.clear();
      if (use_minutes && (m_lo < h_lo || h_hi < m_hi)) decode_summaries(minute_row->second, minute_list);
      for (const Summary& s : minute_list) {
        if (s.start >= m_lo && s.start < h_lo) folder.add(s);
      }
      if (use_hours) {
        for (const Summary& s : hour_list->second) {
          if (s.start >= h_lo && s.start < h_hi) folder.add(s);
        }
      }
      for (const Summary& s : minute_list) {
        if (s.start >= h_hi && s.start < m_hi) folder.add(s);
      }
      while (i < points.size() && points.ts[i] < m_hi) ++i;
      for (; i < points.size() && points.ts[i] < hi; ++i) {
        if (points.ts[i] >= lo) folder.add(points.ts[i], points.values[i]);
      }
    }
  }

  static void decode_summaries(std::span<const std::uint8_t> blob, std::vector<Summary>& out) {
    try {
      decode_rollup_block(blob, out);
    } catch (const std::runtime_error& e) {
      throw core::Unavailable(std::string("telemetry rollup: ") + e.what());
    }
  }

  // Removes rows (each spanning `span`) wholly older than `cut` and, from the row straddling
  // it, the older points (raw rows, `bucket` 0) or the summaries of buckets ending by `cut`.
  static void trim(SqliteFile& db, const std::string& table, std::int64_t cut, std::int64_t span,
                   std::int64_t bucket) {
    bool rollup = bucket > 0;
    std::string remove = "DELETE FROM " + table + " WHERE window_start <= " + std::to_string(cut - span);
    db.exec(remove.c_str());
    std::string select = "SELECT series_id, window_start, data FROM " + table + " WHERE window_start > " +
                         std::to_string(cut - span) + " AND window_start < " + std::to_string(cut);
    std::vector<std::tuple<std::int64_t, std::int64_t, std::vector<std::uint8_t>>> rewrites;
    {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db.handle(), select.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
        db.fail("prepare");
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, 2));
        std::span<const std::uint8_t> blob(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, 2)));
        std::vector<std::uint8_t> data;
        if (rollup) {
          std::vector<Summary> all;
          decode_rollup_block(blob, all);
          std::erase_if(all, [cut, bucket](const Summary& s) { return s.start + bucket <= cut; });
          if (!all.empty()) data = encode_rollup_block(all);
        } else {
          Columns all;
          decode_raw_block(blob, all);
          Columns kept;
          for (std::size_t i = 0; i < all.size(); ++i) {
            if (all.ts[i] < cut) continue;
            kept.ts.push_back(all.ts[i]);
            kept.values.push_back(all.values[i]);
          }
          if (kept.size() > 0) data = encode_raw_block(kept);
        }
        rewrites.emplace_back(sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1), std::move(data));
      }
      sqlite3_finalize(stmt);
    }
    for (auto& [series, window, data] : rewrites) {
      std::string sql = data.empty()
                            ? "DELETE FROM " + table + " WHERE series_id = ?1 AND window_start = ?2"
                            : "UPDATE " + table + " SET data = ?3 WHERE series_id = ?1 AND window_start = ?2";
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) db.fail("prepare");
      sqlite3_bind_int64(stmt, 1, series);
      sqlite3_bind_int64(stmt, 2, window);
      if (!data.empty())
        sqlite3_bind_blob(stmt, 3, data.data(), static_cast<int>(data.size()), SQLITE_STATIC);
      int rc = sqlite3_step(stmt);
      sqlite3_finalize(stmt);
      if (rc != SQLITE_DONE) db.fail("retention");
    }
  }

  FactoryState* factory_locked(const std::string& id, bool create) {
    auto it = factories_.find(id);
    if (it != factories_.end()) return it->second.get();
    auto path = options_.directory / (id + ".db");
    if (!create && !std::filesystem::exists(path)) return nullptr;
    auto factory = std::make_unique<FactoryState>();
    factory->id = id;
    factory->db = std::make_unique<SqliteFile>(path);
    StatementUse rows(*factory->db, kLoadSeries);
    while (rows.step()) {
      DeviceState& device = device_locked(*factory, rows.text(1));
      auto series = std::make_unique<SeriesState>();
      series->id = rows.int64(0);
      series->metric = rows.text(2);
      if (!rows.is_null(3)) {
        series->has_last = true;
        series->last_ts = rows.int64(3);
        series->last_value = rows.real(4);
      }
      ++factory->series_count;
      device.metrics.emplace(series->metric, std::move(series));
    }
    return factories_.emplace(id, std::move(factory)).first->second.get();
  }

  DeviceState& device_locked(FactoryState& factory, std::string_view device_id) {
    auto it = factory.devices.find(device_id);
    if (it != factory.devices.end()) return *it->second;
    auto device = std::make_unique<DeviceState>();
    device->device = std::string(device_id);
    return *factory.devices.emplace(device->device, std::move(device)).first->second;
  }

  SeriesState& series_locked(FactoryState& factory, DeviceState& device, std::string_view metric) {
    auto it = device.metrics.find(metric);
    if (it != device.metrics.end()) return *it->second;
    auto series = std::make_unique<SeriesState>();
    series->metric = std::string(metric);
    {
      std::lock_guard db_lock(factory.db_mu);
      StatementUse insert(*factory.db, kInsertSeries);
      insert.bind(1, device.device).bind(2, series->metric);
      insert.step();
      series->id = sqlite3_last_insert_rowid(factory.db->handle());
    }
    ++factory.series_count;
    return *device.metrics.emplace(series->metric, std::move(series)).first->second;
  }

  void add_point(FactoryState& factory, SeriesState& series, std::int64_t ts, double value) {
    if (series.head.empty()) factory.dirty.push_back(&series);
    series.head.push_back(Point{ts, value});
    if (!series.has_last || ts >= series.last_ts) {
      series.has_last = true;
      series.last_ts = ts;
      series.last_value = value;
    }
    ++head_points_;
  }

  void replay_record(std::span<const std::uint8_t> payload) {
    ByteReader in{payload.data(), payload.size(), 0};
    std::uint64_t batches = get_varint(in);
    for (std::uint64_t b = 0; b < batches; ++b) {
      core::FactoryId factory_id(get_string(in));
      core::DeviceId device_id(get_string(in));
      FactoryState* factory = factory_locked(factory_id.str(), true);
      DeviceState& device = device_locked(*factory, device_id.str());
      std::uint64_t readings = get_varint(in);
      for (std::uint64_t r = 0; r < readings; ++r) {
        std::int64_t ts = unzz(get_varint(in));
        std::uint64_t fields = get_varint(in);
        for (std::uint64_t f = 0; f < fields; ++f) {
          SeriesState& series = series_locked(*factory, device, get_string(in));
          if (in.size - in.pos < 8) throw std::runtime_error("corrupt log record");
          std::uint64_t bits = 0;
          for (int i = 0; i < 8; ++i)
            bits |= static_cast<std::uint64_t>(in.data[in.pos + static_cast<std::size_t>(i)]) << (8 * i);
          in.pos += 8;
          add_point(*factory, series, ts, std::bit_cast<double>(bits));
        }
      }
    }
  }

  // Compacts every head into its blocks and rollups, one transaction per factory; the log is
  // cut only once all of them are committed.
  void flush_locked() {
    for (auto& [id, factory] : factories_) {
      if (factory->dirty.empty()) continue;
      std::lock_guard db_lock(factory->db_mu);
      SqliteFile& db = *factory->db;
      db.exec("BEGIN IMMEDIATE");
      try {
        for (SeriesState* series : factory->dirty) flush_series(db, *series);
        db.exec("COMMIT");
      } catch (...) {
        sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
      for (SeriesState* series : factory->dirty) {
        head_points_ -= series->head.size();
        series->head.clear();
        // Large heads give their memory back; small ones keep it for the next round.
        if (series->head.capacity() > 65536) series->head.shrink_to_fit();
      }
      factory->dirty.clear();
    }
    wal_->reset();
    head_points_ = 0;
    last_flush_ = std::chrono::steady_clock::now();
  }

  void flush_series(SqliteFile& db, SeriesState& series) {
    normalise(series.head);
    const std::vector<Point>& head = series.head;
    std::vector<Point> fresh;
    Columns existing;
    std::size_t i = 0;
    while (i < head.size()) {
      std::int64_t w = floor_to(head[i].ts_ms, kWindowMs);
      fresh.clear();
      while (i < head.size() && head[i].ts_ms < w + kWindowMs) fresh.push_back(head[i++]);
      existing.clear();
      {
        StatementUse row(db, kSelectBlock);
        row.bind(1, series.id).bind(2, w);
        if (row.step()) decode(row.blob(0), existing);
      }
      Columns merged = merge(existing, fresh);
      std::vector<std::uint8_t> raw = encode_raw_block(merged);
      StatementUse(db, kUpsertBlock)
          .bind(1, series.id)
          .bind(2, w)
          .bind(3, std::span<const std::uint8_t>(raw))
          .step();
      std::vector<Summary> minutes = minute_summaries(merged);
      std::vector<std::uint8_t> rollup = encode_rollup_block(minutes);
      StatementUse(db, kUpsertRollup)
          .bind(1, series.id)
          .bind(2, w)
          .bind(3, std::span<const std::uint8_t>(rollup))
          .step();
      // The day's hourly block: replace this window's hours with the recomputed ones.
      std::int64_t day = floor_to(w, kDayMs);
      std::vector<Summary> hours;
      {
        StatementUse row(db, kSelectHourDay);
        row.bind(1, series.id).bind(2, day);
        if (row.step()) decode_summaries(row.blob(0), hours);
      }
      std::erase_if(hours, [w](const Summary& s) { return s.start >= w && s.start < w + kWindowMs; });
      for (const Summary& s : coarsen(minutes, kHourMs)) hours.push_back(s);
      std::sort(hours.begin(), hours.end(),
                [](const Summary& a, const Summary& b) { return a.start < b.start; });
      std::vector<std::uint8_t> day_blob = encode_rollup_block(hours);
      StatementUse(db, kUpsertHourDay)
          .bind(1, series.id)
          .bind(2, day)
          .bind(3, std::span<const std::uint8_t>(day_blob))
          .step();
    }
    if (series.has_last) {
      StatementUse(db, kUpdateLast)
          .bind(1, series.last_ts)
          .bind(2, series.last_value)
          .bind(3, series.id)
          .step();
    }
  }

  void run_flusher() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::seconds(1));
      if (stop_) break;
      if (head_points_ == 0 ||
          std::chrono::steady_clock::now() - last_flush_ < std::chrono::seconds(kFlushEverySeconds))
        continue;
      try {
        flush_locked();
      } catch (const std::exception& e) {
        log::warn("telemetry compaction failed; retrying later", {{"error", e.what()}});
        last_flush_ = std::chrono::steady_clock::now();
      }
    }
  }

  EmbeddedOptions options_;
  std::mutex mu_;  // guards everything below, and the log
  std::condition_variable cv_;
  bool stop_ = false;
  std::unique_ptr<WriteAheadLog> wal_;
  std::map<std::string, std::unique_ptr<FactoryState>> factories_;
  std::size_t head_points_ = 0;
  std::chrono::steady_clock::time_point last_flush_;
  std::vector<std::uint8_t> record_;
  std::vector<SeriesState*> resolved_;
  std::thread flusher_;
};

}  // namespace
}  // namespace factoryops::tsdb::embedded

namespace factoryops::tsdb {

std::unique_ptr<TelemetryStore> open_embedded_store(const EmbeddedOptions& options) {
  return std::make_unique<embedded::EmbeddedStore>(options);
}

}  // namespace factoryops::tsdb
