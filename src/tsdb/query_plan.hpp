// The rules of a telemetry query (docs/api-telemetry.md): parsing and validating its text
// parameters, bucket counting (calendar days of the factory's zone for 1d), and the choice
// of interval under max_points. Pure functions over values; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsdb/store.hpp"

namespace factoryops::tsdb {

constexpr std::size_t kMaxQueryParams = 20;
constexpr std::size_t kDefaultMaxPoints = 1000;
constexpr std::size_t kMaxMaxPoints = 10000;
constexpr std::int64_t kDefaultRangeMs = kHourMs;
// Five calendar years hold at most two leap days.
constexpr std::int64_t kMaxRangeMs = (5 * 365 + 2) * kDayMs;

// The intervals `auto` chooses from, finest first.
inline constexpr std::int64_t kAutoLadderMs[] = {10'000,         30'000,         kMinuteMs, 5 * kMinuteMs,
                                                 15 * kMinuteMs, 30 * kMinuteMs, kHourMs,   3 * kHourMs,
                                                 6 * kHourMs,    12 * kHourMs,   kDayMs};

enum class IntervalMode { kAuto, kRaw, kFixed };

// The query string as received; an absent or empty value takes the default.
struct QueryText {
  std::optional<std::string> params{};
  std::optional<std::string> from{};
  std::optional<std::string> to{};
  std::optional<std::string> agg{};
  std::optional<std::string> interval{};
  std::optional<std::string> max_points{};
};

struct QueryPlan {
  std::vector<std::string> params{};  // validated, duplicates removed; empty = the caller's default
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  Aggregate aggregate = Aggregate::kAvg;
  IntervalMode mode = IntervalMode::kAuto;
  std::int64_t interval_ms = 0;  // kFixed only
  std::size_t max_points = kDefaultMaxPoints;
};

// core::Invalid naming the parameter ("params", "from", "to", "agg", "interval", "max_points").
QueryPlan parse_query(const QueryText& text, std::int64_t now_ms);

// A comma-separated list of metric keys ([A-Za-z0-9_.-]{1,64}, at most `max_items`), order kept,
// duplicates removed. Empty text gives an empty list. core::Invalid(field, …).
std::vector<std::string> parse_key_list(std::string_view field, std::string_view text,
                                        std::size_t max_items = kMaxQueryParams);
bool is_valid_metric_key(std::string_view key);

// Epoch milliseconds (digits only) or RFC 3339 ("…Z" or "±hh:mm", optional fraction).
std::optional<std::int64_t> parse_time(std::string_view text);

// "10s", "5m", "1h", "1d"…; nullopt for anything else, including intervals that do not divide a
// day. parse_interval_ms("1d") == kDayMs.
std::optional<std::int64_t> parse_interval_ms(std::string_view text);
std::string interval_name(std::int64_t interval_ms);

// How many buckets of `interval_ms` a store answer over [from_ms, to_ms) may hold (the rule of
// AggregateQuery): buckets whose start lies in the range after from_ms is rounded down to a
// bucket start. For kDayMs these are calendar days of `timezone` (unknown zones count as UTC).
std::int64_t bucket_count(std::int64_t from_ms, std::int64_t to_ms, std::int64_t interval_ms,
                          std::string_view timezone);

// The finest interval of kAutoLadderMs needing at most `max_points` buckets; nullopt when even
// days are too many.
std::optional<std::int64_t> auto_interval(std::int64_t from_ms, std::int64_t to_ms, std::size_t max_points,
                                          std::string_view timezone);

// core::Invalid("max_points", …) when `interval_ms` needs more than `max_points` buckets.
void check_bucket_count(std::int64_t from_ms, std::int64_t to_ms, std::int64_t interval_ms,
                        std::size_t max_points, std::string_view timezone);

}  // namespace factoryops::tsdb
