#include "tsdb/embedded/embedded_store.hpp"

#include <date/tz.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

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
constexpr const char* kSelectDays =
    "SELECT day_start, day_end, zone, points, min_value, max_value, sum_value, first_value, last_value "
    "FROM rollups_1d WHERE series_id = ? AND day_start >= ? AND day_start < ? ORDER BY day_start";
constexpr const char* kUpsertDay =
    "INSERT OR REPLACE INTO rollups_1d (series_id, day_start, day_end, zone, points, min_value, max_value, "
    "sum_value, first_value, last_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kDeleteDay = "DELETE FROM rollups_1d WHERE series_id = ? AND day_start = ?";
constexpr const char* kDeleteSeriesDays = "DELETE FROM rollups_1d WHERE series_id = ?";
constexpr const char* kDeleteAllDays = "DELETE FROM rollups_1d";
constexpr const char* kDeleteMeta = "DELETE FROM meta WHERE key = ?";
constexpr const char* kTrimDays = "DELETE FROM rollups_1d WHERE day_end <= ?";
constexpr const char* kListHourDays =
    "SELECT window_start FROM rollups_1h WHERE series_id = ? ORDER BY window_start";
constexpr const char* kNextSeries = "SELECT id FROM series WHERE id >= ? ORDER BY id LIMIT 1";
constexpr const char* kSelectMeta = "SELECT value FROM meta WHERE key = ?";
constexpr const char* kUpsertMeta = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)";
// The mark of a file whose day rollups are complete: the zone they were computed in and the
// tz database version (a new version may move past day boundaries). A trigger removes it when
// hourly rollups are written by an engine that does not maintain days (sqlite_file.cpp).
constexpr const char* kDayRollupsKey = "day_rollups";

// Timestamps beyond ±2^60 ms (36 million years) are refused on write and clipped from query
// ranges, so window arithmetic can never overflow.
constexpr std::int64_t kMaxAbsTs = std::int64_t{1} << 60;
// Day buckets are computed up front, one zone conversion per day.
constexpr std::int64_t kMaxDayBuckets = 200'000;
// Day rollups missing from a file are built by the background thread a series at a time, in
// slices of this length, so queries and compactions of the factory wait at most this long.
constexpr auto kDayBuildSlice = std::chrono::milliseconds(50);

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
  // The head taken by the compaction in progress (or failed and to be retried), older than
  // `head`, and the latest value it carries. Set and cleared under the store's mutex; the
  // compaction reads them without it, while nobody changes them.
  std::vector<Point> flushing;
  bool flushing_has_last = false;
  std::int64_t flushing_last_ts = 0;
  double flushing_last_value = 0;
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
  std::vector<SeriesState*> dirty;     // series with a non-empty head
  std::vector<SeriesState*> flushing;  // series with a non-empty `flushing`
  std::int64_t series_count = 0;
  // Guarded by db_mu: the zone day rollups are kept in, and whether every day with data has
  // its rollup in that zone; while not, series from `days_next_series` on are still to build.
  const date::time_zone* zone = nullptr;
  bool days_complete = false;
  std::int64_t days_next_series = 0;
  bool days_wanted = false;  // guarded by the store's mutex: the background thread has days to build
};

// The calendar days of one zone as day buckets define them: a local day starts at the first
// instant of its local midnight (the clock change itself when a change skips midnight), so it
// lasts 23 or 25 hours across a DST change and starts at 18:30Z in Asia/Kolkata.
class LocalDays {
 public:
  explicit LocalDays(const date::time_zone* zone) : zone_(zone) {}

  date::local_days day_of(std::int64_t ts) const {
    using std::chrono::milliseconds;
    return date::floor<date::days>(zone_->to_local(date::sys_time<milliseconds>(milliseconds(ts))));
  }

  std::int64_t start(date::local_days day) const {
    using std::chrono::milliseconds;
    auto start = zone_->to_sys(date::local_time<milliseconds>(day), date::choose::earliest);
    return start.time_since_epoch().count();
  }

  // [start, end) of the day holding `ts`: the latest day start at or before it, as a bucket
  // lookup finds it (days skipped by a clock change have no length and hold nothing).
  std::pair<std::int64_t, std::int64_t> around(std::int64_t ts) const {
    date::local_days day = day_of(ts) + date::days(1);
    while (start(day) > ts) day -= date::days(1);
    while (start(day + date::days(1)) <= ts) day += date::days(1);
    return {start(day), start(day + date::days(1))};
  }

 private:
  const date::time_zone* zone_;
};

// Folds `s`, later than everything folded into `into` so far, into it.
void fold(Summary& into, const Summary& s) {
  if (into.count == 0) {
    into.min = s.min;
    into.max = s.max;
    into.first = s.first;
  } else {
    into.min = std::min(into.min, s.min);
    into.max = std::max(into.max, s.max);
  }
  into.last = s.last;
  into.sum += s.sum;
  into.count += s.count;
}

void fold(Summary& into, double v) {
  fold(into, Summary{.start = 0, .count = 1, .min = v, .max = v, .sum = v, .first = v, .last = v});
}

// A transaction on one factory file, rolled back when left without commit().
class Transaction {
 public:
  Transaction(SqliteFile& db, const char* begin) : db_(db) { db_.exec(begin); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  SqliteFile& db_;
  bool done_ = false;
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
    try {
      zone_ = date::locate_zone(query.timezone);
    } catch (const std::exception&) {
      throw core::Invalid("timezone", "is not a known IANA time zone");
    }
    LocalDays days(zone_);
    for (date::local_days day = days.day_of(query.from_ms);; day += date::days(1)) {
      days_.push_back(days.start(day));
      if (days_.back() >= query.to_ms) break;
    }
  }

  // Day buckets only: the zone, and the bucket starts; the last one lies at or after the range.
  const date::time_zone* zone() const { return zone_; }
  const std::vector<std::int64_t>& day_starts() const { return days_; }

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
  const date::time_zone* zone_ = nullptr;
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
  explicit EmbeddedStore(EmbeddedOptions options)
      : options_(std::move(options)),
        compact_at_(options_.compact_at_points > 0 ? options_.compact_at_points : kMaxHeadPoints) {
    std::error_code ec;
    std::filesystem::create_directories(options_.directory, ec);
    if (ec) throw core::Unavailable("telemetry directory: " + ec.message());
    std::unique_lock lock(mu_);
    std::size_t records = 0;
    // A compaction cut short by a crash left the records it was compacting here; they are
    // older than the current log's.
    if (std::filesystem::exists(compacting_log_path())) {
      WriteAheadLog older(compacting_log_path());
      records += older.replay([this](std::span<const std::uint8_t> payload) { replay_record(payload); });
    }
    wal_ = std::make_unique<WriteAheadLog>(log_path());
    records += wal_->replay([this](std::span<const std::uint8_t> payload) { replay_record(payload); });
    if (records > 0) {
      log::info("telemetry log replayed", {{"records", static_cast<std::uint64_t>(records)}});
      flush_locked(lock);
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
    std::unique_lock lock(mu_);
    try {
      flush_locked(lock);
    } catch (const std::exception& e) {
      log::error("telemetry flush at close failed; the log keeps the points", {{"error", e.what()}});
    }
  }

  std::string_view engine() const override { return "embedded"; }

  void write(std::span<const DeviceBatch> batches) override {
    std::unique_lock lock(mu_);
    // Memory is bounded: beyond twice the compaction threshold, writers wait (a while) for the
    // compaction in progress instead of growing the head without end.
    if (head_points_ >= 2 * compact_at_ && compacting_)
      cv_.wait_for(lock, std::chrono::seconds(10), [this] { return !compacting_; });
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
    // The background thread compacts; the batch is already durable in the log.
    if (head_points_ >= compact_at_) cv_.notify_all();
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
        SqliteFile& db = *snap.factory->db;
        Transaction read(db, "BEGIN");
        if (query.interval_ms == kDayMs) {
          aggregate_days(db, snap.ids[m], snap.heads[m], query.from_ms, query.to_ms, level, bucketer, folder);
        } else {
          aggregate_series(db, snap.ids[m], snap.heads[m], query.from_ms, query.to_ms, level, folder);
        }
        read.commit();
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
    // The factory's zone is looked up again here (a few times a day), before any lock: the
    // lookup may ask the metadata database.
    const date::time_zone* zone = zone_of(factory_id);
    std::unique_lock lock(mu_);
    FactoryState* factory = factory_locked(factory_id.str(), false);
    if (!factory) return;
    wait_compaction_locked(lock);
    use_zone_locked(*factory, zone);
    flush_locked(lock);
    std::lock_guard db_lock(factory->db_mu);
    SqliteFile& db = *factory->db;
    std::int64_t raw_cut = now_ms - static_cast<std::int64_t>(policy.raw_days) * kDayMs;
    std::int64_t rollup_cut = now_ms - static_cast<std::int64_t>(policy.rollup_days) * kDayMs;
    db.exec("BEGIN IMMEDIATE");
    try {
      trim(db, "raw_blocks", raw_cut, kWindowMs, 0);
      trim(db, "rollups_1m", rollup_cut, kWindowMs, kMinuteMs);
      trim(db, "rollups_1h", rollup_cut, kDayMs, kHourMs);
      // A day keeps its rollup until it has ended by the cut, as an hour does.
      StatementUse(db, kTrimDays).bind(1, rollup_cut).step();
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
    return StoreStatus{
        .reachable = true,
        .spooled_batches = 0,
        .detail = "embedded, " + std::to_string(head_points_ + flushing_points_) + " points in memory"};
  }

  void flush() override {
    std::unique_lock lock(mu_);
    flush_locked(lock);
    for (auto& [id, factory] : factories_) {
      // Day rollups still to build are finished here, so flushed data is in its final form.
      if (factory->days_wanted) {
        build_days(*factory, std::chrono::steady_clock::time_point::max());
        factory->days_wanted = false;
      }
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
      // Points being compacted first: they are older than the head's.
      for (const Point& p : it->second->flushing) {
        if (p.ts_ms >= from && p.ts_ms < to) snap.heads[m].push_back(p);
      }
      for (const Point& p : it->second->head) {
        if (p.ts_ms >= from && p.ts_ms < to) snap.heads[m].push_back(p);
      }
      normalise(snap.heads[m]);
    }
    return snap;
  }

  // Folds one series into local days, in time order. A day stored in rollups_1d in the query's
  // zone, with the bounds the query's days have, answers a whole day of [from, to) without
  // unflushed points; every other day (the range's partial first and last days, days with
  // unflushed points, days not stored, or stored in another zone or under other tz rules) is
  // folded by aggregate_series, a run of consecutive days at a time. The caller holds a read
  // transaction.
  void aggregate_days(SqliteFile& db, std::int64_t id, const std::vector<Point>& head, std::int64_t from,
                      std::int64_t to, Level level, const Bucketer& bucketer, Folder& folder) {
    const std::vector<std::int64_t>& starts = bucketer.day_starts();
    struct StoredDay {
      std::int64_t end = 0;
      Summary summary;
    };
    std::vector<StoredDay> stored;
    {
      const std::string& zone = bucketer.zone()->name();
      StatementUse rows(db, kSelectDays);
      rows.bind(1, id).bind(2, starts.front()).bind(3, to);
      while (rows.step()) {
        if (rows.text(2) != zone) continue;
        stored.push_back(StoredDay{.end = rows.int64(1),
                                   .summary = Summary{.start = rows.int64(0),
                                                      .count = rows.int64(3),
                                                      .min = rows.real(4),
                                                      .max = rows.real(5),
                                                      .sum = rows.real(6),
                                                      .first = rows.real(7),
                                                      .last = rows.real(8)}});
      }
    }
    std::optional<std::pair<std::int64_t, std::int64_t>> run;  // [from, to) not answered by stored days
    auto fold_run = [&] {
      if (!run) return;
      auto lo = std::lower_bound(head.begin(), head.end(), run->first,
                                 [](const Point& p, std::int64_t t) { return p.ts_ms < t; });
      auto hi = std::lower_bound(lo, head.end(), run->second,
                                 [](const Point& p, std::int64_t t) { return p.ts_ms < t; });
      aggregate_series(db, id, std::vector<Point>(lo, hi), run->first, run->second, level, folder);
      run.reset();
    };
    // Where the first local midnight lies after `from` (a clock change at midnight), the points
    // before it belong to the first bucket all the same.
    if (from < starts.front()) run.emplace(from, std::min(starts.front(), to));
    std::size_t k = 0;
    for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
      const std::int64_t start = starts[i];
      const std::int64_t end = starts[i + 1];
      if (start >= end) continue;  // a day skipped by a clock change
      while (k < stored.size() && stored[k].summary.start < start) ++k;
      auto first_head = std::lower_bound(head.begin(), head.end(), start,
                                         [](const Point& p, std::int64_t t) { return p.ts_ms < t; });
      bool unflushed = first_head != head.end() && first_head->ts_ms < end;
      if (start >= from && end <= to && !unflushed && k < stored.size() && stored[k].summary.start == start &&
          stored[k].end == end) {
        fold_run();
        folder.add(stored[k].summary);
        continue;
      }
      if (!run) run.emplace(std::max(start, from), std::min(end, to));
      run->second = std::min(end, to);
    }
    fold_run();
  }

  // Folds one series into buckets window by window, in time order. Within a window without
  // unflushed points, whole hours of [from, to) come from hourly rollups (when `level` is
  // kHours), whole minutes from minute rollups, and the unaligned rest from raw points. Windows
  // with unflushed points, and every window at level kRaw, are read from raw points. The caller
  // holds a read transaction.
  void aggregate_series(SqliteFile& db, std::int64_t id, const std::vector<Point>& head, std::int64_t from,
                        std::int64_t to, Level level, Folder& folder) {
    std::int64_t first_window = floor_to(from, kWindowMs);
    std::map<std::int64_t, std::vector<std::uint8_t>> minutes;
    std::map<std::int64_t, std::vector<Summary>> hours;  // by window
    std::map<std::int64_t, std::vector<std::uint8_t>> raws;
    std::vector<std::int64_t> windows;
    for (const Point& p : head) windows.push_back(floor_to(p.ts_ms, kWindowMs));
    windows.erase(std::unique(windows.begin(), windows.end()), windows.end());
    auto partial = [&](std::int64_t w) { return w < from || w + kWindowMs > to; };
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
    const bool exists = std::filesystem::exists(path);
    if (!create && !exists) return nullptr;
    auto factory = std::make_unique<FactoryState>();
    factory->id = id;
    factory->db = std::make_unique<SqliteFile>(path);
    factory->zone = zone_of(core::FactoryId(id));
    if (!exists) {
      // A new file has no day to build.
      write_day_mark(*factory);
      factory->days_complete = true;
    } else {
      StatementUse mark(*factory->db, kSelectMeta);
      mark.bind(1, std::string(kDayRollupsKey));
      factory->days_complete = mark.step() && mark.text(0) == day_mark(*factory);
    }
    if (!factory->days_complete) {
      // Days kept in another zone, or left stale by an engine that did not maintain them, must
      // not answer queries: they are dropped and built again.
      log::info("telemetry day rollups will be built", {{"factory", std::string_view(id)}});
      factory->db->exec(kDeleteAllDays);
      factory->days_wanted = true;
      cv_.notify_all();
    }
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

  std::filesystem::path log_path() const { return options_.directory / "wal.log"; }
  std::filesystem::path compacting_log_path() const { return options_.directory / "wal.compacting.log"; }

  void wait_compaction_locked(std::unique_lock<std::mutex>& lock) {
    cv_.wait(lock, [this] { return !compacting_; });
  }

  // Takes every head for compaction: the heads become the series' `flushing` points and the
  // log's records move to the compacting log, so writes go on into empty heads and a fresh
  // log while the points are compacted. False when nothing is to compact.
  bool take_heads_locked() {
    if (flushing_points_ > 0) return true;  // a failed compaction's points, retried first
    if (head_points_ == 0) return false;
    // The open log keeps its records under the new name; a fresh one takes the next writes.
    std::error_code ec;
    std::filesystem::rename(log_path(), compacting_log_path(), ec);
    if (ec) throw core::Unavailable("telemetry log rotation: " + ec.message());
    try {
      wal_ = std::make_unique<WriteAheadLog>(log_path());
    } catch (...) {
      std::filesystem::rename(compacting_log_path(), log_path(), ec);
      throw;
    }
    compacting_factories_.clear();
    for (auto& [id, factory] : factories_) {
      if (factory->dirty.empty()) continue;
      for (SeriesState* series : factory->dirty) {
        series->flushing.swap(series->head);
        series->flushing_has_last = series->has_last;
        series->flushing_last_ts = series->last_ts;
        series->flushing_last_value = series->last_value;
      }
      factory->flushing.swap(factory->dirty);
      compacting_factories_.push_back(factory.get());
    }
    flushing_points_ = head_points_;
    head_points_ = 0;
    return true;
  }

  // Compacts the taken points into blocks and rollups, one transaction per factory. Runs with
  // or without the store's mutex: nothing it reads changes while `compacting_` is set.
  void compact_taken() {
    for (FactoryState* factory : compacting_factories_) {
      std::lock_guard db_lock(factory->db_mu);
      SqliteFile& db = *factory->db;
      db.exec("BEGIN IMMEDIATE");
      try {
        for (SeriesState* series : factory->flushing) flush_series(*factory, *series);
        // Writing hourly rollups removed the mark (the trigger); days are maintained, so it holds.
        if (factory->days_complete) write_day_mark(*factory);
        db.exec("COMMIT");
      } catch (...) {
        sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
  }

  // Once every taken point is committed: forgets them and their log.
  void release_taken_locked() {
    for (FactoryState* factory : compacting_factories_) {
      for (SeriesState* series : factory->flushing) {
        series->flushing.clear();
        // Large heads give their memory back; small ones keep it for the next round.
        if (series->flushing.capacity() > 65536) series->flushing.shrink_to_fit();
      }
      factory->flushing.clear();
    }
    compacting_factories_.clear();
    std::error_code ec;
    std::filesystem::remove(compacting_log_path(), ec);
    flushing_points_ = 0;
  }

  // Compacts everything now, holding the store's mutex: at open, at close, before retention
  // and on flush(). The log is cut only once every factory's transaction is committed.
  void flush_locked(std::unique_lock<std::mutex>& lock) {
    wait_compaction_locked(lock);
    if (flushing_points_ > 0) {
      compact_taken();
      release_taken_locked();
    }
    if (take_heads_locked()) {
      compact_taken();
      release_taken_locked();
    }
    last_flush_ = std::chrono::steady_clock::now();
  }

  // The background compaction: the points are taken under the mutex, compacted without it
  // (writers and queries go on meanwhile), then released under it again.
  void compact_in_background(std::unique_lock<std::mutex>& lock) {
    if (!take_heads_locked()) return;
    compacting_ = true;
    lock.unlock();
    bool done = false;
    try {
      compact_taken();
      done = true;
    } catch (const std::exception& e) {
      // The points stay taken, and in the compacting log, and are compacted at the next round.
      log::warn("telemetry compaction failed; retrying later", {{"error", e.what()}});
    }
    lock.lock();
    if (done) release_taken_locked();
    compacting_ = false;
    last_flush_ = std::chrono::steady_clock::now();
    cv_.notify_all();
  }

  void flush_series(FactoryState& factory, SeriesState& series) {
    SqliteFile& db = *factory.db;
    // A copy: queries read `flushing` meanwhile, under the store's mutex.
    std::vector<Point> head = series.flushing;
    normalise(head);
    const LocalDays local_days(factory.zone);
    std::vector<std::pair<std::int64_t, std::int64_t>> days;  // the local days of the new points
    std::vector<Point> fresh;
    Columns existing;
    std::size_t i = 0;
    while (i < head.size()) {
      std::int64_t w = floor_to(head[i].ts_ms, kWindowMs);
      fresh.clear();
      while (i < head.size() && head[i].ts_ms < w + kWindowMs) fresh.push_back(head[i++]);
      for (std::size_t k = 0; k < fresh.size();) {
        auto local = local_days.around(fresh[k].ts_ms);
        if (days.empty() || days.back().first != local.first) days.push_back(local);
        while (k < fresh.size() && fresh[k].ts_ms < local.second) ++k;
      }
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
    // Each local day that received points is folded again from the rollups just written, so
    // late points and overwrites reach it as they reach the hours.
    for (const auto& [start, end] : days) store_day(factory, series.id, start, end);
    if (series.flushing_has_last) {
      StatementUse(db, kUpdateLast)
          .bind(1, series.flushing_last_ts)
          .bind(2, series.flushing_last_value)
          .bind(3, series.id)
          .step();
    }
  }

  // The factory's zone (UTC when unknown or not a zone of the tz database).
  const date::time_zone* zone_of(const core::FactoryId& factory) {
    std::string name = "UTC";
    if (options_.timezone_of) {
      try {
        name = options_.timezone_of(factory);
      } catch (const std::exception& e) {
        log::warn("factory time zone unavailable; day rollups use UTC until it is",
                  {{"factory", factory.str()}, {"error", e.what()}});
      }
    }
    try {
      return date::locate_zone(name);
    } catch (const std::exception&) {
      log::warn("factory time zone unknown; day rollups use UTC",
                {{"factory", factory.str()}, {"zone", std::string_view(name)}});
      return date::locate_zone("UTC");
    }
  }

  // Keeps day rollups in `zone` from now on; when it is another zone than before, every day is
  // built again in the background (queries in the new zone meanwhile fold the days not built
  // yet from the hourly and minute rollups).
  void use_zone_locked(FactoryState& factory, const date::time_zone* zone) {
    std::lock_guard db_lock(factory.db_mu);
    if (factory.zone == zone) return;
    log::info("factory time zone changed; telemetry day rollups will be rebuilt",
              {{"factory", std::string_view(factory.id)},
               {"from", std::string_view(factory.zone->name())},
               {"to", std::string_view(zone->name())}});
    // The days of the old zone are dropped rather than ignored: kept unmaintained, they would be
    // stale should the zone change back.
    Transaction write(*factory.db, "BEGIN IMMEDIATE");
    factory.db->exec(kDeleteAllDays);
    StatementUse(*factory.db, kDeleteMeta).bind(1, std::string(kDayRollupsKey)).step();
    write.commit();
    factory.zone = zone;
    factory.days_complete = false;
    factory.days_next_series = 0;
    factory.days_wanted = true;
    cv_.notify_all();
  }

  static std::string day_mark(const FactoryState& factory) {
    return factory.zone->name() + " " + date::get_tzdb().version;
  }

  static void write_day_mark(FactoryState& factory) {
    StatementUse(*factory.db, kUpsertMeta)
        .bind(1, std::string(kDayRollupsKey))
        .bind(2, day_mark(factory))
        .step();
  }

  // Folds the raw points of [lo, hi) of one series into `into`, in time order.
  static void fold_raw(SqliteFile& db, std::int64_t id, std::int64_t lo, std::int64_t hi, Summary& into) {
    if (lo >= hi) return;
    StatementUse rows(db, kSelectBlocks);
    rows.bind(1, id).bind(2, floor_to(lo, kWindowMs)).bind(3, hi);
    Columns points;
    while (rows.step()) {
      points.clear();
      decode(rows.blob(1), points);
      for (std::size_t i = 0; i < points.size(); ++i) {
        if (points.ts[i] >= lo && points.ts[i] < hi) fold(into, points.values[i]);
      }
    }
  }

  // Folds the summaries starting in [lo, hi) of one series into `into`, in time order, from
  // `sql`: minute rollups (rows of 2-hour windows) or hourly ones (rows of UTC days).
  static void fold_rollups(SqliteFile& db, const char* sql, std::int64_t row_span, std::int64_t id,
                           std::int64_t lo, std::int64_t hi, Summary& into) {
    if (lo >= hi) return;
    StatementUse rows(db, sql);
    rows.bind(1, id).bind(2, floor_to(lo, row_span)).bind(3, hi);
    std::vector<Summary> summaries;
    while (rows.step()) {
      summaries.clear();
      decode_summaries(rows.blob(1), summaries);
      for (const Summary& s : summaries) {
        if (s.start >= lo && s.start < hi) fold(into, s);
      }
    }
  }

  // The summary of [start, end) of one series from what is stored: whole hours from hourly
  // rollups, whole minutes at the edges from minute rollups (days of +05:30 zones), and the
  // rest from raw points (zones whose offset is not whole minutes), in time order, as queries
  // fold them.
  static Summary summarise_day(SqliteFile& db, std::int64_t id, std::int64_t start, std::int64_t end) {
    const std::int64_t m_lo = std::min(floor_to(start + kMinuteMs - 1, kMinuteMs), end);
    const std::int64_t m_hi = std::max(floor_to(end, kMinuteMs), m_lo);
    const std::int64_t h_lo = std::min(floor_to(m_lo + kHourMs - 1, kHourMs), m_hi);
    const std::int64_t h_hi = std::max(floor_to(m_hi, kHourMs), h_lo);
    Summary day{.start = start};
    fold_raw(db, id, start, m_lo, day);
    fold_rollups(db, kSelectRollups, kWindowMs, id, m_lo, h_lo, day);
    fold_rollups(db, kSelectHourRollups, kDayMs, id, h_lo, h_hi, day);
    fold_rollups(db, kSelectRollups, kWindowMs, id, h_hi, m_hi, day);
    fold_raw(db, id, m_hi, end, day);
    return day;
  }

  // Stores the rollup of the local day [start, end) of one series, in the factory's zone.
  static void store_day(FactoryState& factory, std::int64_t id, std::int64_t start, std::int64_t end) {
    Summary day = summarise_day(*factory.db, id, start, end);
    if (day.count == 0) {
      StatementUse(*factory.db, kDeleteDay).bind(1, id).bind(2, start).step();
      return;
    }
    StatementUse(*factory.db, kUpsertDay)
        .bind(1, id)
        .bind(2, start)
        .bind(3, end)
        .bind(4, factory.zone->name())
        .bind(5, day.count)
        .bind(6, day.min)
        .bind(7, day.max)
        .bind(8, day.sum)
        .bind(9, day.first)
        .bind(10, day.last)
        .step();
  }

  // Replaces every day rollup of one series by days of the factory's zone: the local days
  // overlapping each UTC day that has hourly rollups (hourly rollups cover all stored data).
  static void rebuild_days(FactoryState& factory, std::int64_t id) {
    SqliteFile& db = *factory.db;
    const LocalDays local_days(factory.zone);
    std::vector<std::pair<std::int64_t, std::int64_t>> days;
    {
      StatementUse rows(db, kListHourDays);
      rows.bind(1, id);
      while (rows.step()) {
        const std::int64_t utc_day = rows.int64(0);
        for (std::int64_t t = utc_day; t < utc_day + kDayMs;) {
          auto day = local_days.around(t);
          if (days.empty() || days.back().first < day.first) days.push_back(day);
          t = day.second;
        }
      }
    }
    StatementUse(db, kDeleteSeriesDays).bind(1, id).step();
    for (const auto& [start, end] : days) store_day(factory, id, start, end);
  }

  // Builds the day rollups a file lacks, a series at a time, until `deadline`; true once the
  // factory's days are complete (then the file is marked so). Takes the factory's db_mu.
  static bool build_days(FactoryState& factory, std::chrono::steady_clock::time_point deadline) {
    std::lock_guard db_lock(factory.db_mu);
    if (factory.days_complete) return true;
    SqliteFile& db = *factory.db;
    std::int64_t next = factory.days_next_series;
    bool complete = false;
    Transaction write(db, "BEGIN IMMEDIATE");
    while (true) {
      std::optional<std::int64_t> id;
      {
        StatementUse row(db, kNextSeries);
        row.bind(1, next);
        if (row.step()) id = row.int64(0);
      }
      if (!id) {
        write_day_mark(factory);
        complete = true;
        break;
      }
      rebuild_days(factory, *id);
      next = *id + 1;
      if (std::chrono::steady_clock::now() >= deadline) break;
    }
    write.commit();
    factory.days_next_series = next;
    factory.days_complete = complete;
    if (complete) log::info("telemetry day rollups built", {{"factory", std::string_view(factory.id)}});
    return complete;
  }

  // Builds missing day rollups for one factory for a slice of time, outside the store's mutex.
  // Returns with the mutex held again.
  void build_days_slice(std::unique_lock<std::mutex>& lock) {
    FactoryState* factory = nullptr;
    for (auto& [id, state] : factories_) {
      if (state->days_wanted) factory = state.get();
    }
    if (!factory) return;
    lock.unlock();
    try {
      build_days(*factory, std::chrono::steady_clock::now() + kDayBuildSlice);
    } catch (const std::exception& e) {
      log::warn("building telemetry day rollups failed; retrying later", {{"error", e.what()}});
      lock.lock();
      cv_.wait_for(lock, std::chrono::seconds(kFlushEverySeconds));
      return;
    }
    lock.lock();
    // Checked under both locks: a zone change in between wants the days again.
    std::lock_guard db_lock(factory->db_mu);
    if (factory->days_complete) factory->days_wanted = false;
  }

  bool days_wanted_locked() const {
    return std::any_of(factories_.begin(), factories_.end(),
                       [](const auto& entry) { return entry.second->days_wanted; });
  }

  void run_flusher() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      // Sleeps between compactions, but not while day rollups remain to be built.
      if (!days_wanted_locked()) cv_.wait_for(lock, std::chrono::seconds(1));
      if (stop_) break;
      const bool due =
          std::chrono::steady_clock::now() - last_flush_ >= std::chrono::seconds(kFlushEverySeconds);
      if ((head_points_ > 0 || flushing_points_ > 0) && (due || head_points_ >= compact_at_)) {
        try {
          compact_in_background(lock);
        } catch (const std::exception& e) {
          log::warn("telemetry compaction failed; retrying later", {{"error", e.what()}});
          last_flush_ = std::chrono::steady_clock::now();
        }
      }
      if (!stop_) build_days_slice(lock);
    }
  }

  EmbeddedOptions options_;
  const std::size_t compact_at_;
  std::mutex mu_;  // guards everything below, and the log
  std::condition_variable cv_;
  bool stop_ = false;
  std::unique_ptr<WriteAheadLog> wal_;
  std::map<std::string, std::unique_ptr<FactoryState>> factories_;
  std::size_t head_points_ = 0;
  std::size_t flushing_points_ = 0;  // points taken by the compaction in progress (or failed)
  bool compacting_ = false;          // a compaction runs without the mutex
  // The factories whose points are taken; compact_taken() walks this, not factories_, which
  // writers may extend meanwhile.
  std::vector<FactoryState*> compacting_factories_;
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
