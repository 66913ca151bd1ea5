// "Test against the last 24 hours": replays stored readings through one rule with a fresh
// evaluator and reports how often and when it would have fired. Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "rules/rule.hpp"
#include "rules/rule_evaluator.hpp"
#include "tsdb/store.hpp"

namespace factoryops::rules {

// One in-scope machine's raw points, one Series per parameter the rule reads (any order).
struct BacktestDevice {
  DeviceProfile device;
  std::vector<tsdb::Series> series{};
};

struct Episode {
  std::string device_id;
  std::int64_t started_at_ms = 0;               // when the condition became true
  std::int64_t fired_at_ms = 0;                 // when the rule fired (started_at + duration)
  std::optional<std::int64_t> cleared_at_ms{};  // nullopt: still firing at the end of the range
  double value = 0;
  double threshold = 0;
};

struct BacktestResult {
  std::size_t fired = 0;          // episodes in total
  std::vector<Episode> episodes;  // oldest first, at most kMaxBacktestEpisodes
  std::size_t readings = 0;       // readings replayed
};

constexpr std::size_t kMaxBacktestEpisodes = 500;
// No-data conditions are checked once a minute of replayed time, as the scheduler does.
constexpr std::int64_t kBacktestTickMs = 60'000;

// Replays [from_ms, to_ms) (points outside are ignored) through `rule` as if it were enabled,
// its state starting empty at from_ms. core::Invalid when the rule is not valid.
BacktestResult backtest(const core::FactoryId& factory, const Rule& rule,
                        std::span<const BacktestDevice> devices, std::int64_t from_ms, std::int64_t to_ms);

}  // namespace factoryops::rules
