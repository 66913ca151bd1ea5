#include "tsdb/query_plan.hpp"

#include <date/tz.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "core/errors.hpp"

namespace factoryops::tsdb {
namespace {

constexpr std::size_t kMaxKeyChars = 64;

std::optional<std::int64_t> parse_digits(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// Reads exactly `n` digits at `pos`.
std::optional<int> fixed_digits(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  // 2026-11-27T10:00:00[.fff][Z|±hh:mm]
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
      text[13] != ':' || text[16] != ':')
    return std::nullopt;
  auto y = fixed_digits(text, 0, 4), mo = fixed_digits(text, 5, 2), d = fixed_digits(text, 8, 2);
  auto h = fixed_digits(text, 11, 2), mi = fixed_digits(text, 14, 2), s = fixed_digits(text, 17, 2);
  if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;

  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  std::string_view zone = text.substr(pos);
  std::int64_t offset_minutes = 0;
  if (zone == "Z" || zone == "z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    auto oh = fixed_digits(zone, 1, 2), om = fixed_digits(zone, 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = (zone[0] == '+' ? 1 : -1) * (*oh * 60 + *om);
  } else {
    return std::nullopt;
  }
  const std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  const std::int64_t seconds = days * 86400 + *h * 3600 + *mi * 60 + *s - offset_minutes * 60;
  return seconds * 1000 + millis;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

const date::time_zone* find_zone(std::string_view timezone) {
  try {
    return date::locate_zone(timezone);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// The calendar day (days since 1970-01-01 in local time) that holds the instant `ms`.
std::int64_t local_day(const date::time_zone* zone, std::int64_t ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(ms)};
  if (zone == nullptr) return floor<days>(t).time_since_epoch().count();
  return floor<days>(zone->to_local(t)).time_since_epoch().count();
}

std::string list_of_aggregates() {
  return "avg, min, max, sum, count, first or last";
}

}  // namespace

bool is_valid_metric_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyChars) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::vector<std::string> parse_key_list(std::string_view field, std::string_view text,
                                        std::size_t max_items) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (!is_valid_metric_key(item)) {
      throw core::Invalid(std::string(field),
                          "each entry must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' or '-'");
    }
    if (std::find(out.begin(), out.end(), item) == out.end()) out.emplace_back(item);
    if (out.size() > max_items) {
      throw core::Invalid(std::string(field), "at most " + std::to_string(max_items) + " entries");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<std::int64_t> parse_time(std::string_view text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return parse_digits(text);
  }
  return parse_rfc3339(text);
}

std::optional<std::int64_t> parse_interval_ms(std::string_view text) {
  if (text == "1d") return kDayMs;
  if (text.size() < 2) return std::nullopt;
  auto n = parse_digits(text.substr(0, text.size() - 1));
  if (!n || *n == 0 || *n > kDayMs) return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = kMinuteMs; break;
    case 'h': unit = kHourMs; break;
    default: return std::nullopt;
  }
  const std::int64_t ms = *n * unit;
  // A day or more is only meaningful as calendar days ("1d"), which follow the factory's zone;
  // shorter buckets must tile a day so that every day starts on a bucket boundary.
  if (ms >= kDayMs || kDayMs % ms != 0) return std::nullopt;
  return ms;
}

std::string interval_name(std::int64_t interval_ms) {
  if (interval_ms == kDayMs) return "1d";
  if (interval_ms % kHourMs == 0) return std::to_string(interval_ms / kHourMs) + "h";
  if (interval_ms % kMinuteMs == 0) return std::to_string(interval_ms / kMinuteMs) + "m";
  return std::to_string(interval_ms / 1000) + "s";
}

std::int64_t bucket_count(std::int64_t from_ms, std::int64_t to_ms, std::int64_t interval_ms,
                          std::string_view timezone) {
  if (to_ms <= from_ms) return 0;
  if (interval_ms == kDayMs) {
    const date::time_zone* zone = find_zone(timezone);
    return local_day(zone, to_ms - 1) - local_day(zone, from_ms) + 1;
  }
  const std::int64_t first = floor_div(from_ms, interval_ms) * interval_ms;
  return floor_div(to_ms - first - 1, interval_ms) + 1;
}

std::optional<std::int64_t> auto_interval(std::int64_t from_ms, std::int64_t to_ms, std::size_t max_points,
                                          std::string_view timezone) {
  for (std::int64_t interval : kAutoLadderMs) {
    if (bucket_count(from_ms, to_ms, interval, timezone) <= static_cast<std::int64_t>(max_points)) {
      return interval;
    }
  }
  return std::nullopt;
}

void check_bucket_count(std::int64_t from_ms, std::int64_t to_ms, std::int64_t interval_ms,
                        std::size_t max_points, std::string_view timezone) {
  const std::int64_t needed = bucket_count(from_ms, to_ms, interval_ms, timezone);
  if (needed <= static_cast<std::int64_t>(max_points)) return;
  throw core::Invalid("max_points", "interval " + interval_name(interval_ms) + " over this range needs " +
                                        std::to_string(needed) + " buckets, more than max_points (" +
                                        std::to_string(max_points) +
                                        "); choose a coarser interval or a shorter range, or raise "
                                        "max_points (at most " +
                                        std::to_string(kMaxMaxPoints) + ")");
}

QueryPlan parse_query(const QueryText& text, std::int64_t now_ms) {
  QueryPlan plan;
  auto given = [](const std::optional<std::string>& value) { return value && !value->empty(); };

  if (given(text.params)) plan.params = parse_key_list("params", *text.params);

  std::optional<std::int64_t> from, to;
  if (given(text.from)) {
    from = parse_time(*text.from);
    if (!from) throw core::Invalid("from", "must be epoch milliseconds or an RFC 3339 time");
  }
  if (given(text.to)) {
    to = parse_time(*text.to);
    if (!to) throw core::Invalid("to", "must be epoch milliseconds or an RFC 3339 time");
  }
  // Without `to` the range ends now; without `from` it is the hour before `to`.
  plan.to_ms = to.value_or(now_ms);
  plan.from_ms = from.value_or(plan.to_ms - kDefaultRangeMs);
  if (plan.from_ms >= plan.to_ms) throw core::Invalid("from", "must be before to");
  if (plan.to_ms - plan.from_ms > kMaxRangeMs)
    throw core::Invalid("to", "the range may span at most 5 years");

  if (given(text.agg)) {
    auto aggregate = parse_aggregate(*text.agg);
    if (!aggregate) throw core::Invalid("agg", "must be " + list_of_aggregates());
    plan.aggregate = *aggregate;
  }

  if (given(text.max_points)) {
    auto n = parse_digits(*text.max_points);
    if (!n || *n < 1 || *n > static_cast<std::int64_t>(kMaxMaxPoints)) {
      throw core::Invalid("max_points", "must be a whole number from 1 to " + std::to_string(kMaxMaxPoints));
    }
    plan.max_points = static_cast<std::size_t>(*n);
  }

  if (given(text.interval) && *text.interval != "auto") {
    if (*text.interval == "raw") {
      plan.mode = IntervalMode::kRaw;
    } else {
      auto ms = parse_interval_ms(*text.interval);
      if (!ms) {
        throw core::Invalid(
            "interval",
            "must be auto, raw, 1d, or <n>s, <n>m or <n>h dividing a day (e.g. 10s, 1m, 15m, 1h)");
      }
      plan.mode = IntervalMode::kFixed;
      plan.interval_ms = *ms;
    }
  }
  return plan;
}

}  // namespace factoryops::tsdb
