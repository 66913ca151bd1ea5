#include "rules/backtest.hpp"

#include <algorithm>
#include <tuple>

namespace factoryops::rules {
namespace {

// A reading assembled from the series of one machine: fields[begin, end) share its timestamp.
struct Replayed {
  std::int64_t ts_ms = 0;
  std::uint32_t device = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

}  // namespace

BacktestResult backtest(const core::FactoryId& factory, const Rule& rule,
                        std::span<const BacktestDevice> devices, std::int64_t from_ms, std::int64_t to_ms) {
  Rule replayed_rule = rule;
  replayed_rule.enabled = true;
  if (replayed_rule.id <= 0) replayed_rule.id = 1;  // a draft not stored yet
  RuleEvaluator evaluator(factory);
  evaluator.set_rules({replayed_rule});
  std::vector<DeviceProfile> profiles;
  for (const auto& device : devices) profiles.push_back(device.device);
  evaluator.set_devices(std::move(profiles));

  // Points of all machines flattened, then grouped per (machine, timestamp) into readings.
  struct Point {
    std::int64_t ts_ms;
    std::uint32_t device;
    std::uint32_t series;
    double value;
  };
  std::vector<Point> points;
  for (std::uint32_t d = 0; d < devices.size(); ++d) {
    for (std::uint32_t s = 0; s < devices[d].series.size(); ++s) {
      for (const auto& point : devices[d].series[s].points) {
        if (point.ts_ms < from_ms || point.ts_ms >= to_ms) continue;
        points.push_back(Point{point.ts_ms, d, s, point.value});
      }
    }
  }
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return std::tie(a.ts_ms, a.device, a.series) < std::tie(b.ts_ms, b.device, b.series);
  });
  std::vector<tsdb::Field> fields;
  fields.reserve(points.size());
  std::vector<Replayed> readings;
  for (const Point& point : points) {
    if (readings.empty() || readings.back().ts_ms != point.ts_ms || readings.back().device != point.device) {
      auto at = static_cast<std::uint32_t>(fields.size());
      readings.push_back(Replayed{point.ts_ms, point.device, at, at});
    }
    fields.push_back(tsdb::Field{devices[point.device].series[point.series].metric, point.value});
    readings.back().end = static_cast<std::uint32_t>(fields.size());
  }

  BacktestResult result;
  result.readings = readings.size();
  std::vector<Event> events;
  std::vector<std::size_t> open_episode(devices.size(), SIZE_MAX);
  auto device_index = [&](const std::string& id) {
    for (std::size_t d = 0; d < devices.size(); ++d) {
      if (devices[d].device.device_id == id) return d;
    }
    return SIZE_MAX;
  };
  auto record = [&]() {
    for (const Event& event : events) {
      std::size_t d = device_index(event.device_id);
      if (d == SIZE_MAX) continue;
      if (event.kind == EventKind::fire) {
        ++result.fired;
        if (result.episodes.size() < kMaxBacktestEpisodes) {
          open_episode[d] = result.episodes.size();
          result.episodes.push_back(Episode{event.device_id, event.started_at_ms, event.at_ms, std::nullopt,
                                            event.value, event.threshold});
        } else {
          open_episode[d] = SIZE_MAX;
        }
      } else if (event.kind == EventKind::clear && open_episode[d] != SIZE_MAX) {
        result.episodes[open_episode[d]].cleared_at_ms = event.at_ms;
        open_episode[d] = SIZE_MAX;
      }
    }
    events.clear();
  };

  std::int64_t next_tick = from_ms + kBacktestTickMs;
  for (const Replayed& reading : readings) {
    while (next_tick < reading.ts_ms) {
      evaluator.tick(next_tick, events);
      next_tick += kBacktestTickMs;
    }
    evaluator.evaluate(
        devices[reading.device].device.device_id, reading.ts_ms,
        std::span<const tsdb::Field>(fields).subspan(reading.begin, reading.end - reading.begin), events);
    record();
  }
  for (; next_tick < to_ms; next_tick += kBacktestTickMs) evaluator.tick(next_tick, events);
  record();
  return result;
}

}  // namespace factoryops::rules
