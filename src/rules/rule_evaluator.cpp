#include "rules/rule_evaluator.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/errors.hpp"
#include "rules/schedule_gate.hpp"

namespace factoryops::rules {
namespace {
namespace json = boost::json;

constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
constexpr std::uint32_t kNoSlot = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kAnyParameter = std::numeric_limits<std::uint32_t>::max();
// A window keeps this many buckets of 1/60 of its length: memory per window is fixed (about
// 2 KiB) whatever the reading rate, and the window's edge is exact to 1/60 of its length.
constexpr std::int64_t kBuckets = 60;
constexpr int kStateVersion = 1;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct Bucket {
  std::int64_t index = kNone;
  double sum = 0;
  double min = 0;
  double max = 0;
  std::uint32_t count = 0;
};

// Sliding window over the last kBuckets buckets ending at the newest bucket seen. Totals are kept
// so a read costs nothing; they are recomputed only when the window slides (once per bucket).
class Window {
 public:
  explicit Window(std::int64_t bucket_ms) : bucket_ms_(bucket_ms) {}

  std::int64_t bucket_ms() const { return bucket_ms_; }

  void add(std::int64_t ts_ms, double value) {
    const std::int64_t index = floor_div(ts_ms, bucket_ms_);
    if (head_ != kNone && index <= head_ - kBuckets) return;  // older than the window
    const bool slides = head_ == kNone || index > head_;
    if (slides) head_ = index;
    Bucket& bucket = buckets_[static_cast<std::size_t>((index % kBuckets + kBuckets) % kBuckets)];
    if (bucket.index != index) {
      bucket = Bucket{index, value, value, value, 1};
    } else {
      bucket.sum += value;
      bucket.min = std::min(bucket.min, value);
      bucket.max = std::max(bucket.max, value);
      ++bucket.count;
    }
    if (slides) {
      recompute();
    } else {
      sum_ += value;
      count_ += 1;
      min_ = std::min(min_, value);
      max_ = std::max(max_, value);
    }
  }

  bool empty() const { return count_ == 0; }

  double value(WindowFunction function) const {
    switch (function) {
      case WindowFunction::avg: return sum_ / static_cast<double>(count_);
      case WindowFunction::min: return min_;
      case WindowFunction::max: return max_;
      case WindowFunction::sum: return sum_;
    }
    return 0;
  }

  json::object to_json() const {
    json::object object;
    object["b"] = bucket_ms_;
    object["h"] = head_;
    json::array buckets;
    for (const Bucket& bucket : buckets_) {
      if (!live(bucket)) continue;
      buckets.push_back(json::array{bucket.index, bucket.count, bucket.sum, bucket.min, bucket.max});
    }
    object["k"] = std::move(buckets);
    return object;
  }

  void from_json(const json::object& object) {
    head_ = json::value_to<std::int64_t>(object.at("h"));
    buckets_.fill(Bucket{});
    for (const json::value& item : object.at("k").as_array()) {
      const json::array& fields = item.as_array();
      Bucket bucket{json::value_to<std::int64_t>(fields.at(0)), json::value_to<double>(fields.at(2)),
                    json::value_to<double>(fields.at(3)), json::value_to<double>(fields.at(4)),
                    json::value_to<std::uint32_t>(fields.at(1))};
      if (head_ == kNone || bucket.index > head_ || bucket.index <= head_ - kBuckets) continue;
      buckets_[static_cast<std::size_t>((bucket.index % kBuckets + kBuckets) % kBuckets)] = bucket;
    }
    recompute();
  }

 private:
  bool live(const Bucket& bucket) const {
    return bucket.index != kNone && bucket.index <= head_ && bucket.index > head_ - kBuckets &&
           bucket.count > 0;
  }

  void recompute() {
    sum_ = 0;
    count_ = 0;
    min_ = std::numeric_limits<double>::infinity();
    max_ = -std::numeric_limits<double>::infinity();
    for (const Bucket& bucket : buckets_) {
      if (!live(bucket)) continue;
      sum_ += bucket.sum;
      count_ += bucket.count;
      min_ = std::min(min_, bucket.min);
      max_ = std::max(max_, bucket.max);
    }
  }

  std::int64_t bucket_ms_;
  std::int64_t head_ = kNone;
  std::array<Bucket, kBuckets> buckets_{};
  double sum_ = 0;
  std::uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
};

// A condition with its parameter interned and its units in milliseconds.
struct CompiledCondition {
  ConditionKind kind = ConditionKind::threshold;
  Comparison op = Comparison::gt;
  WindowFunction function = WindowFunction::avg;
  std::uint32_t parameter = kAnyParameter;
  double threshold = 0;
  double clear_threshold = 0;
  bool has_clear_threshold = false;
  double low = 0;
  double high = 0;
  std::int64_t bucket_ms = 0;   // window
  std::int64_t silence_ms = 0;  // no_data
};

struct CompiledRule {
  Rule rule;
  std::uint64_t digest = 0;
  std::array<CompiledCondition, kMaxConditions> conditions{};
  std::uint8_t count = 0;
  std::uint8_t all_mask = 0;
  bool has_no_data = false;
  std::optional<ScheduleGate> gate{};
};

struct Track {
  std::uint32_t parameter = 0;
  std::int64_t last_ts = kNone;
  double last = 0;
  std::int64_t prev_ts = kNone;
  double prev = 0;
  std::uint32_t first_window = 0;
  std::uint32_t window_count = 0;
};

struct Watch {
  std::uint32_t state = 0;
  std::uint32_t window = kNoSlot;
  std::uint8_t condition = 0;
};

struct RuleState {
  std::uint32_t rule = 0;  // index into Impl::rules_
  std::int64_t rule_id = 0;
  std::uint64_t digest = 0;
  std::uint32_t stamp = 0;
  std::uint8_t truth = 0;  // bit i: condition i holds
  bool open = false;
  Severity open_severity = Severity::info;
  std::int64_t pending_since = kNone;
  std::int64_t clear_since = kNone;
  std::int64_t started_at = kNone;
  std::int64_t opened_at = kNone;
  std::int64_t last_notified = kNone;
  std::int64_t last_event = kNone;
  std::array<double, kMaxConditions> values{};
};

struct DeviceState {
  DeviceProfile profile;
  bool listed = false;  // named by set_devices/upsert_device (not only seen reporting)
  std::int64_t last_seen = kNone;
  std::int64_t known_since = kNone;
  std::vector<std::uint32_t> slot_of_parameter;  // by parameter id; kNoSlot when no rule reads it
  std::vector<Track> tracks;
  std::vector<Window> windows;
  std::vector<std::uint32_t> watch_begin;  // per track, plus one end marker
  std::vector<Watch> watches;
  std::vector<Watch> any_watches;  // no_data conditions on the whole machine
  std::vector<RuleState> states;
  std::vector<std::uint32_t> ticking;  // states whose rule has a no_data condition
};

json::value optional_time(std::int64_t ms) {
  return ms == kNone ? json::value(nullptr) : json::value(ms);
}

std::int64_t time_at(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->value().is_null()) return kNone;
  return json::value_to<std::int64_t>(it->value());
}

}  // namespace

std::string_view event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::fire: return "fire";
    case EventKind::escalate: return "escalate";
    case EventKind::renotify: return "renotify";
    case EventKind::clear: return "clear";
  }
  return "fire";
}

struct RuleEvaluator::Impl {
  explicit Impl(core::FactoryId id) : factory(std::move(id)) {}

  core::FactoryId factory;
  std::map<std::int64_t, Rule> rule_set;  // as given, enabled or not
  std::vector<CompiledRule> rules;
  StringMap<std::uint32_t> parameter_ids;
  std::vector<std::string> parameter_names;
  StringMap<DeviceState> devices;
  EvaluatorStats stats;
  std::uint32_t sequence = 0;
  std::vector<std::uint32_t> dirty;  // states touched by the reading being evaluated
  std::vector<std::uint32_t> order;  // reading order of the batch being evaluated

  std::uint32_t intern(const std::string& name) {
    auto it = parameter_ids.find(name);
    if (it != parameter_ids.end()) return it->second;
    auto id = static_cast<std::uint32_t>(parameter_names.size());
    parameter_names.push_back(name);
    parameter_ids.emplace(name, id);
    return id;
  }

  void compile_rules() {
    rules.clear();
    for (const auto& [id, rule] : rule_set) {
      if (!rule.enabled) continue;
      CompiledRule compiled;
      compiled.rule = rule;
      std::sort(compiled.rule.scope.device_ids.begin(), compiled.rule.scope.device_ids.end());
      compiled.digest = condition_digest(rule);
      compiled.count = static_cast<std::uint8_t>(rule.conditions.size());
      compiled.all_mask = static_cast<std::uint8_t>((1U << compiled.count) - 1);
      for (std::size_t i = 0; i < rule.conditions.size(); ++i) {
        const Condition& source = rule.conditions[i];
        CompiledCondition& c = compiled.conditions[i];
        c.kind = source.kind;
        c.op = source.op;
        c.function = source.function;
        c.parameter = source.parameter.empty() ? kAnyParameter : intern(source.parameter);
        c.threshold = source.threshold;
        c.has_clear_threshold = source.clear_threshold.has_value();
        c.clear_threshold = source.clear_threshold.value_or(source.threshold);
        c.low = source.low;
        c.high = source.high;
        c.bucket_ms = source.minutes * 60'000 / kBuckets;
        c.silence_ms = source.minutes * 60'000;
        if (c.kind == ConditionKind::no_data) compiled.has_no_data = true;
      }
      if (rule.schedule) compiled.gate.emplace(*rule.schedule);
      rules.push_back(std::move(compiled));
    }
  }

  bool in_scope(const Rule& rule, const DeviceProfile& device) const {
    switch (rule.scope.kind) {
      case ScopeKind::all: return true;
      case ScopeKind::devices:
        return std::binary_search(rule.scope.device_ids.begin(), rule.scope.device_ids.end(),
                                  device.device_id);
      case ScopeKind::device_type: return device.type == rule.scope.device_type;
      case ScopeKind::line: return device.line == rule.scope.line;
    }
    return false;
  }

  // Lays out the machine's plan for the current rules, then carries over what the old plan knew.
  void rebuild(DeviceState& device) {
    DeviceState old = std::move(device);
    device = DeviceState{};
    device.profile = std::move(old.profile);
    device.listed = old.listed;
    device.last_seen = old.last_seen;
    device.known_since = old.known_since;
    device.slot_of_parameter.assign(parameter_names.size(), kNoSlot);

    // Watches grouped by track: collected per track first, flattened below.
    std::vector<std::vector<Watch>> per_track;
    auto track_of = [&](std::uint32_t parameter) {
      std::uint32_t& slot = device.slot_of_parameter[parameter];
      if (slot == kNoSlot) {
        slot = static_cast<std::uint32_t>(device.tracks.size());
        device.tracks.push_back(Track{parameter, kNone, 0, kNone, 0, 0, 0});
        per_track.emplace_back();
      }
      return slot;
    };
    std::vector<std::pair<std::uint32_t, std::int64_t>> window_keys;  // (track, bucket_ms)
    for (std::uint32_t r = 0; r < rules.size(); ++r) {
      const CompiledRule& rule = rules[r];
      if (!in_scope(rule.rule, device.profile)) continue;
      auto state_index = static_cast<std::uint32_t>(device.states.size());
      RuleState state;
      state.rule = r;
      state.rule_id = rule.rule.id;
      state.digest = rule.digest;
      device.states.push_back(state);
      if (rule.has_no_data) device.ticking.push_back(state_index);
      for (std::uint8_t i = 0; i < rule.count; ++i) {
        const CompiledCondition& c = rule.conditions[i];
        Watch watch{state_index, kNoSlot, i};
        if (c.parameter == kAnyParameter) {
          device.any_watches.push_back(watch);
          continue;
        }
        std::uint32_t slot = track_of(c.parameter);
        if (c.kind == ConditionKind::window) {
          auto key = std::make_pair(slot, c.bucket_ms);
          auto it = std::find(window_keys.begin(), window_keys.end(), key);
          watch.window = static_cast<std::uint32_t>(it - window_keys.begin());
          if (it == window_keys.end()) window_keys.push_back(key);
        }
        per_track[slot].push_back(watch);
      }
    }
    // Windows ordered by track so each track's windows are one contiguous run.
    std::vector<std::uint32_t> window_order(window_keys.size());
    for (std::uint32_t i = 0; i < window_order.size(); ++i) window_order[i] = i;
    std::stable_sort(window_order.begin(), window_order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return window_keys[a].first < window_keys[b].first;
    });
    std::vector<std::uint32_t> window_position(window_keys.size());
    for (std::uint32_t position = 0; position < window_order.size(); ++position) {
      const auto& [slot, bucket_ms] = window_keys[window_order[position]];
      window_position[window_order[position]] = position;
      Track& track = device.tracks[slot];
      if (track.window_count == 0) track.first_window = position;
      ++track.window_count;
      device.windows.emplace_back(bucket_ms);
    }
    for (std::uint32_t slot = 0; slot < device.tracks.size(); ++slot) {
      device.watch_begin.push_back(static_cast<std::uint32_t>(device.watches.size()));
      for (Watch watch : per_track[slot]) {
        if (watch.window != kNoSlot) watch.window = window_position[watch.window];
        device.watches.push_back(watch);
      }
    }
    device.watch_begin.push_back(static_cast<std::uint32_t>(device.watches.size()));

    // Carry over by name: parameter ids and rule ids are stable, positions are not.
    for (const Track& old_track : old.tracks) {
      if (old_track.parameter >= device.slot_of_parameter.size()) continue;
      std::uint32_t slot = device.slot_of_parameter[old_track.parameter];
      if (slot == kNoSlot) continue;
      Track& track = device.tracks[slot];
      track.last_ts = old_track.last_ts;
      track.last = old_track.last;
      track.prev_ts = old_track.prev_ts;
      track.prev = old_track.prev;
      for (std::uint32_t w = 0; w < old_track.window_count; ++w) {
        const Window& old_window = old.windows[old_track.first_window + w];
        for (std::uint32_t n = 0; n < track.window_count; ++n) {
          Window& window = device.windows[track.first_window + n];
          if (window.bucket_ms() == old_window.bucket_ms()) window = old_window;
        }
      }
    }
    for (const RuleState& old_state : old.states) {
      auto it = std::find_if(device.states.begin(), device.states.end(),
                             [&](const RuleState& s) { return s.rule_id == old_state.rule_id; });
      if (it == device.states.end()) continue;
      carry_state(*it, old_state);
    }
  }

  static void carry_state(RuleState& state, const RuleState& old) {
    state.open = old.open;
    state.open_severity = old.open_severity;
    state.started_at = old.started_at;
    state.opened_at = old.opened_at;
    state.last_notified = old.last_notified;
    if (old.digest != state.digest) {
      // A changed condition restarts its timers; an open alert clears by the new condition.
      return;
    }
    state.truth = old.truth;
    state.pending_since = old.pending_since;
    state.clear_since = old.clear_since;
    state.last_event = old.last_event;
    state.values = old.values;
  }

  void rebuild_all() {
    for (auto& [id, device] : devices) rebuild(device);
  }

  DeviceState& device_for(std::string_view id) {
    auto it = devices.find(id);
    if (it != devices.end()) return it->second;
    DeviceState device;
    device.profile.device_id = std::string(id);
    auto [inserted, ok] = devices.emplace(std::string(id), std::move(device));
    rebuild(inserted->second);
    return inserted->second;
  }

  bool condition_true(const CompiledCondition& c, bool open, double value) const {
    switch (c.kind) {
      case ConditionKind::threshold:
      case ConditionKind::window:
      case ConditionKind::rate:
        return compare(c.op, value, open && c.has_clear_threshold ? c.clear_threshold : c.threshold);
      case ConditionKind::between: return value >= c.low && value <= c.high;
      case ConditionKind::outside: return value < c.low || value > c.high;
      case ConditionKind::no_data: return false;  // evaluated in silence()
    }
    return false;
  }

  void mark_dirty(RuleState& state, std::uint32_t index) {
    if (state.stamp == sequence) return;
    state.stamp = sequence;
    dirty.push_back(index);
  }

  void set_truth(RuleState& state, std::uint8_t condition, bool truth, double value) {
    const auto bit = static_cast<std::uint8_t>(1U << condition);
    state.truth =
        truth ? static_cast<std::uint8_t>(state.truth | bit) : static_cast<std::uint8_t>(state.truth & ~bit);
    state.values[condition] = value;
    ++stats.condition_evaluations;
  }

  void evaluate_reading(DeviceState& device, std::int64_t ts, std::span<const tsdb::Field> fields,
                        std::vector<Event>& out) {
    if (device.states.empty()) return;
    ++stats.readings;
    if (++sequence == 0) ++sequence;  // 0 is the stamp of a state never touched
    dirty.clear();
    if (device.known_since == kNone) device.known_since = ts;
    if (device.last_seen == kNone || ts > device.last_seen) device.last_seen = ts;
    for (const tsdb::Field& field : fields) {
      auto id = parameter_ids.find(std::string_view(field.key));
      if (id == parameter_ids.end() || id->second >= device.slot_of_parameter.size()) continue;
      const std::uint32_t slot = device.slot_of_parameter[id->second];
      if (slot == kNoSlot) continue;
      Track& track = device.tracks[slot];
      for (std::uint32_t w = 0; w < track.window_count; ++w)
        device.windows[track.first_window + w].add(ts, field.value);
      if (track.last_ts != kNone && ts < track.last_ts) {
        ++stats.late_readings;
        continue;
      }
      if (ts != track.last_ts) {
        track.prev_ts = track.last_ts;
        track.prev = track.last;
        track.last_ts = ts;
      }
      track.last = field.value;
      for (std::uint32_t k = device.watch_begin[slot]; k < device.watch_begin[slot + 1]; ++k) {
        const Watch& watch = device.watches[k];
        RuleState& state = device.states[watch.state];
        if (ts < state.last_event) continue;
        const CompiledCondition& c = rules[state.rule].conditions[watch.condition];
        double value = track.last;
        bool truth = false;
        if (c.kind == ConditionKind::window) {
          const Window& window = device.windows[watch.window];
          if (!window.empty()) {
            value = window.value(c.function);
            truth = condition_true(c, state.open, value);
          }
        } else if (c.kind == ConditionKind::rate) {
          if (track.prev_ts != kNone) {
            value = (track.last - track.prev) * 60'000.0 / static_cast<double>(track.last_ts - track.prev_ts);
            truth = condition_true(c, state.open, value);
          } else {
            value = 0;
          }
        } else if (c.kind == ConditionKind::no_data) {
          value = 0;
        } else {
          truth = condition_true(c, state.open, value);
        }
        set_truth(state, watch.condition, truth, value);
        mark_dirty(state, watch.state);
      }
    }
    for (const Watch& watch : device.any_watches) {
      RuleState& state = device.states[watch.state];
      if (ts < state.last_event) continue;
      set_truth(state, watch.condition, false, 0);
      mark_dirty(state, watch.state);
    }
    for (std::uint32_t index : dirty) {
      RuleState& state = device.states[index];
      state.last_event = ts;
      step(device, state, ts, out);
    }
  }

  void evaluate_tick(DeviceState& device, std::int64_t now, std::vector<Event>& out) {
    if (device.known_since == kNone) device.known_since = now;
    for (std::uint32_t index : device.ticking) {
      RuleState& state = device.states[index];
      if (state.last_event != kNone && now < state.last_event) continue;
      const CompiledRule& rule = rules[state.rule];
      for (std::uint8_t i = 0; i < rule.count; ++i) {
        const CompiledCondition& c = rule.conditions[i];
        if (c.kind != ConditionKind::no_data) continue;
        std::int64_t seen = device.last_seen;
        if (c.parameter != kAnyParameter) {
          std::uint32_t slot = device.slot_of_parameter[c.parameter];
          seen = device.tracks[slot].last_ts;
        }
        if (seen == kNone) seen = device.known_since;
        const std::int64_t silence = now - seen;
        set_truth(state, i, silence >= c.silence_ms, static_cast<double>(silence) / 1000.0);
      }
      step(device, state, now, out);
    }
  }

  std::uint8_t deciding_condition(const CompiledRule& rule, const RuleState& state) const {
    for (std::uint8_t i = 0; i < rule.count; ++i) {
      if ((state.truth & (1U << i)) != 0) return i;
    }
    return 0;
  }

  void emit(std::vector<Event>& out, EventKind kind, const DeviceState& device, const CompiledRule& rule,
            const RuleState& state, std::int64_t at, bool notify) {
    const std::uint8_t i = kind == EventKind::clear ? 0 : deciding_condition(rule, state);
    const CompiledCondition& c = rule.conditions[i];
    const double value = state.values[i];
    Event event;
    event.kind = kind;
    event.rule_id = rule.rule.id;
    event.device_id = device.profile.device_id;
    event.severity = rule.rule.severity;
    event.condition = i;
    event.parameter = rule.rule.conditions[i].parameter;
    event.value = value;
    switch (c.kind) {
      case ConditionKind::between: event.threshold = c.low; break;
      case ConditionKind::outside: event.threshold = value < c.low ? c.low : c.high; break;
      case ConditionKind::no_data: event.threshold = static_cast<double>(c.silence_ms) / 1000.0; break;
      default: event.threshold = c.threshold; break;
    }
    event.started_at_ms = state.started_at;
    event.at_ms = at;
    event.notify = notify;
    out.push_back(std::move(event));
  }

  // The (rule, machine) state machine at time t: pending → open after the duration, open → closed
  // after clear_after of falsehood; notifications spaced by cooldown and repeat.
  void step(const DeviceState& device, RuleState& state, std::int64_t t, std::vector<Event>& out) {
    ++stats.rule_evaluations;
    CompiledRule& rule = rules[state.rule];
    bool holds = rule.rule.logic == Logic::all_of ? state.truth == rule.all_mask : state.truth != 0;
    if (holds && rule.gate) holds = rule.gate->active(t);
    const Rule& r = rule.rule;
    if (!state.open) {
      if (!holds) {
        state.pending_since = kNone;
        return;
      }
      if (state.pending_since == kNone || state.pending_since > t) state.pending_since = t;
      if (t - state.pending_since < r.duration_seconds * 1000) return;
      state.open = true;
      state.open_severity = r.severity;
      state.started_at = state.pending_since;
      state.opened_at = t;
      state.pending_since = kNone;
      state.clear_since = kNone;
      const bool notify =
          state.last_notified == kNone || t - state.last_notified >= r.cooldown_seconds * 1000;
      if (notify) state.last_notified = t;
      emit(out, EventKind::fire, device, rule, state, t, notify);
      return;
    }
    if (!holds) {
      if (state.clear_since == kNone || state.clear_since > t) state.clear_since = t;
      if (t - state.clear_since < r.clear_after_seconds * 1000) return;
      state.open = false;
      state.clear_since = kNone;
      state.pending_since = kNone;
      emit(out, EventKind::clear, device, rule, state, t, false);
      return;
    }
    state.clear_since = kNone;
    if (r.severity > state.open_severity) {
      state.open_severity = r.severity;
      state.last_notified = t;
      emit(out, EventKind::escalate, device, rule, state, t, true);
      return;
    }
    state.open_severity = r.severity;
    if (r.repeat_seconds > 0 && state.last_notified != kNone &&
        t - state.last_notified >= std::max(r.repeat_seconds, r.cooldown_seconds) * 1000) {
      state.last_notified = t;
      emit(out, EventKind::renotify, device, rule, state, t, true);
    }
  }

  json::object device_to_json(const DeviceState& device) const {
    json::object object;
    object["id"] = device.profile.device_id;
    object["seen"] = optional_time(device.last_seen);
    object["known"] = optional_time(device.known_since);
    json::array tracks;
    for (const Track& track : device.tracks) {
      if (track.last_ts == kNone && track.window_count == 0) continue;
      json::object item;
      item["p"] = parameter_names[track.parameter];
      item["t"] = optional_time(track.last_ts);
      item["v"] = track.last;
      item["pt"] = optional_time(track.prev_ts);
      item["pv"] = track.prev;
      json::array windows;
      for (std::uint32_t w = 0; w < track.window_count; ++w) {
        windows.push_back(device.windows[track.first_window + w].to_json());
      }
      item["w"] = std::move(windows);
      tracks.push_back(std::move(item));
    }
    object["tracks"] = std::move(tracks);
    json::array states;
    for (const RuleState& state : device.states) {
      json::object item;
      item["r"] = state.rule_id;
      item["d"] = state.digest;
      item["tb"] = state.truth;
      item["open"] = state.open;
      item["sev"] = severity_name(state.open_severity);
      item["ps"] = optional_time(state.pending_since);
      item["cs"] = optional_time(state.clear_since);
      item["sa"] = optional_time(state.started_at);
      item["oa"] = optional_time(state.opened_at);
      item["ln"] = optional_time(state.last_notified);
      item["le"] = optional_time(state.last_event);
      json::array values;
      for (std::uint8_t i = 0; i < rules[state.rule].count; ++i) values.emplace_back(state.values[i]);
      item["vals"] = std::move(values);
      states.push_back(std::move(item));
    }
    object["states"] = std::move(states);
    return object;
  }

  // The saved text is the whole truth about the machine: what it does not mention starts empty,
  // so a replica that loads a machine's state before each batch never mixes in stale memory.
  static void forget_readings(DeviceState& device) {
    device.last_seen = kNone;
    device.known_since = kNone;
    for (Track& track : device.tracks) {
      track.last_ts = track.prev_ts = kNone;
      track.last = track.prev = 0;
    }
    for (Window& window : device.windows) window = Window(window.bucket_ms());
    for (RuleState& state : device.states) {
      RuleState empty;
      empty.rule = state.rule;
      empty.rule_id = state.rule_id;
      empty.digest = state.digest;
      state = empty;
    }
  }

  void device_from_json(const json::object& object) {
    DeviceState& device = device_for(json::value_to<std::string>(object.at("id")));
    forget_readings(device);
    device.last_seen = time_at(object, "seen");
    device.known_since = time_at(object, "known");
    for (const json::value& value : object.at("tracks").as_array()) {
      const json::object& item = value.as_object();
      auto id = parameter_ids.find(std::string_view(item.at("p").as_string()));
      if (id == parameter_ids.end() || id->second >= device.slot_of_parameter.size()) continue;
      const std::uint32_t slot = device.slot_of_parameter[id->second];
      if (slot == kNoSlot) continue;
      Track& track = device.tracks[slot];
      track.last_ts = time_at(item, "t");
      track.last = json::value_to<double>(item.at("v"));
      track.prev_ts = time_at(item, "pt");
      track.prev = json::value_to<double>(item.at("pv"));
      for (const json::value& saved : item.at("w").as_array()) {
        const json::object& window_json = saved.as_object();
        const auto bucket_ms = json::value_to<std::int64_t>(window_json.at("b"));
        for (std::uint32_t w = 0; w < track.window_count; ++w) {
          Window& window = device.windows[track.first_window + w];
          if (window.bucket_ms() == bucket_ms) window.from_json(window_json);
        }
      }
    }
    for (const json::value& value : object.at("states").as_array()) {
      const json::object& item = value.as_object();
      const auto rule_id = json::value_to<std::int64_t>(item.at("r"));
      auto it = std::find_if(device.states.begin(), device.states.end(),
                             [&](const RuleState& s) { return s.rule_id == rule_id; });
      if (it == device.states.end()) continue;
      RuleState saved;
      saved.digest = json::value_to<std::uint64_t>(item.at("d"));
      saved.truth = json::value_to<std::uint8_t>(item.at("tb"));
      saved.open = item.at("open").as_bool();
      auto severity = parse_severity(item.at("sev").as_string());
      if (!severity) throw core::Invalid("state", "unknown severity");
      saved.open_severity = *severity;
      saved.pending_since = time_at(item, "ps");
      saved.clear_since = time_at(item, "cs");
      saved.started_at = time_at(item, "sa");
      saved.opened_at = time_at(item, "oa");
      saved.last_notified = time_at(item, "ln");
      saved.last_event = time_at(item, "le");
      const json::array& values = item.at("vals").as_array();
      for (std::size_t i = 0; i < values.size() && i < kMaxConditions; ++i) {
        saved.values[i] = json::value_to<double>(values[i]);
      }
      // Conditions beyond the current rule's count must not read as true.
      saved.truth = static_cast<std::uint8_t>(saved.truth & rules[it->rule].all_mask);
      carry_state(*it, saved);
    }
  }
};

RuleEvaluator::RuleEvaluator(core::FactoryId factory) : impl_(std::make_unique<Impl>(std::move(factory))) {}
RuleEvaluator::~RuleEvaluator() = default;
RuleEvaluator::RuleEvaluator(RuleEvaluator&&) noexcept = default;
RuleEvaluator& RuleEvaluator::operator=(RuleEvaluator&&) noexcept = default;

const core::FactoryId& RuleEvaluator::factory() const {
  return impl_->factory;
}

void RuleEvaluator::set_rules(std::vector<Rule> rules) {
  std::map<std::int64_t, Rule> rule_set;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    Rule& rule = rules[i];
    if (rule.id <= 0)
      throw core::Invalid("rules[" + std::to_string(i) + "].id", "must be a stored rule's id");
    validate_rule(rule);
    std::int64_t id = rule.id;
    if (!rule_set.emplace(id, std::move(rule)).second) {
      throw core::Invalid("rules[" + std::to_string(i) + "].id", "is listed twice");
    }
  }
  impl_->rule_set = std::move(rule_set);
  impl_->compile_rules();
  impl_->rebuild_all();
}

void RuleEvaluator::upsert_rule(Rule rule) {
  if (rule.id <= 0) throw core::Invalid("id", "must be a stored rule's id");
  validate_rule(rule);
  std::int64_t id = rule.id;
  impl_->rule_set.insert_or_assign(id, std::move(rule));
  impl_->compile_rules();
  impl_->rebuild_all();
}

void RuleEvaluator::remove_rule(std::int64_t rule_id) {
  if (impl_->rule_set.erase(rule_id) == 0) return;
  impl_->compile_rules();
  impl_->rebuild_all();
}

void RuleEvaluator::set_devices(std::vector<DeviceProfile> devices) {
  StringMap<DeviceProfile> listed;
  for (auto& device : devices) {
    std::string id = device.device_id;
    listed.insert_or_assign(std::move(id), std::move(device));
  }
  for (auto it = impl_->devices.begin(); it != impl_->devices.end();) {
    if (it->second.listed && !listed.contains(it->first)) {
      it = impl_->devices.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [id, profile] : listed) upsert_device(std::move(profile));
}

void RuleEvaluator::upsert_device(DeviceProfile device) {
  DeviceState& state = impl_->device_for(device.device_id);
  const bool changed = state.profile.type != device.type || state.profile.line != device.line;
  state.listed = true;
  state.profile = std::move(device);
  if (changed) impl_->rebuild(state);
}

void RuleEvaluator::remove_device(std::string_view device_id) {
  auto it = impl_->devices.find(device_id);
  if (it != impl_->devices.end()) impl_->devices.erase(it);
}

void RuleEvaluator::evaluate(const tsdb::DeviceBatch& batch, std::vector<Event>& out) {
  if (batch.factory != impl_->factory)
    throw core::Invalid("factory_id", "the batch belongs to another factory");
  if (impl_->rules.empty() || batch.readings.empty()) return;
  DeviceState& device = impl_->device_for(batch.device.str());
  std::vector<std::uint32_t>& order = impl_->order;
  order.resize(batch.readings.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  auto older = [&](std::uint32_t a, std::uint32_t b) {
    return batch.readings[a].ts_ms < batch.readings[b].ts_ms;
  };
  if (!std::is_sorted(order.begin(), order.end(), older)) std::stable_sort(order.begin(), order.end(), older);
  for (std::uint32_t i : order) {
    const tsdb::Reading& reading = batch.readings[i];
    impl_->evaluate_reading(device, reading.ts_ms, reading.fields, out);
  }
}

void RuleEvaluator::evaluate(std::string_view device_id, std::int64_t ts_ms,
                             std::span<const tsdb::Field> fields, std::vector<Event>& out) {
  if (impl_->rules.empty()) return;
  impl_->evaluate_reading(impl_->device_for(device_id), ts_ms, fields, out);
}

void RuleEvaluator::tick(std::int64_t now_ms, std::vector<Event>& out) {
  for (auto& [id, device] : impl_->devices) impl_->evaluate_tick(device, now_ms, out);
}

void RuleEvaluator::mark_resolved(std::int64_t rule_id, std::string_view device_id) {
  auto it = impl_->devices.find(device_id);
  if (it == impl_->devices.end()) return;
  for (RuleState& state : it->second.states) {
    if (state.rule_id != rule_id) continue;
    state.open = false;
    state.pending_since = kNone;
    state.clear_since = kNone;
  }
}

std::vector<OpenState> RuleEvaluator::open_states() const {
  std::vector<OpenState> open;
  for (const auto& [id, device] : impl_->devices) {
    for (const RuleState& state : device.states) {
      if (!state.open) continue;
      open.push_back(OpenState{state.rule_id, id, state.open_severity, state.started_at, state.opened_at});
    }
  }
  std::sort(open.begin(), open.end(), [](const OpenState& a, const OpenState& b) {
    return std::tie(a.rule_id, a.device_id) < std::tie(b.rule_id, b.device_id);
  });
  return open;
}

EvaluatorStats RuleEvaluator::stats() const {
  return impl_->stats;
}

std::string RuleEvaluator::save_state() const {
  json::object root;
  root["v"] = kStateVersion;
  json::array devices;
  for (const auto& [id, device] : impl_->devices) devices.push_back(impl_->device_to_json(device));
  root["devices"] = std::move(devices);
  return json::serialize(root);
}

std::optional<std::string> RuleEvaluator::save_device_state(std::string_view device_id) const {
  auto it = impl_->devices.find(device_id);
  if (it == impl_->devices.end()) return std::nullopt;
  json::object object = impl_->device_to_json(it->second);
  object["v"] = kStateVersion;
  return json::serialize(object);
}

void RuleEvaluator::restore_state(std::string_view text) {
  try {
    json::value root = json::parse(text);
    const json::object& object = root.as_object();
    if (json::value_to<int>(object.at("v")) != kStateVersion) throw core::Invalid("state", "unknown version");
    for (const json::value& device : object.at("devices").as_array())
      impl_->device_from_json(device.as_object());
  } catch (const core::Invalid&) {
    throw;
  } catch (const std::exception& e) {
    throw core::Invalid("state", std::string("is malformed: ") + e.what());
  }
}

void RuleEvaluator::restore_device_state(std::string_view text) {
  try {
    json::value root = json::parse(text);
    const json::object& object = root.as_object();
    if (json::value_to<int>(object.at("v")) != kStateVersion) throw core::Invalid("state", "unknown version");
    impl_->device_from_json(object);
  } catch (const core::Invalid&) {
    throw;
  } catch (const std::exception& e) {
    throw core::Invalid("state", std::string("is malformed: ") + e.what());
  }
}

}  // namespace factoryops::rules
