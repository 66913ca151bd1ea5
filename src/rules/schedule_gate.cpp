#include "rules/schedule_gate.hpp"

#include <date/tz.h>

#include <chrono>
#include <limits>

#include "core/errors.hpp"

namespace factoryops::rules {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

const date::time_zone* find_zone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    throw core::Invalid("schedule.timezone", "must be an IANA time zone name such as Europe/Berlin");
  }
}

std::int64_t clamp_ms(std::chrono::sys_seconds t) {
  // The zone's first and last periods reach the limits of sys_seconds; milliseconds must not overflow.
  constexpr std::int64_t kLimit = std::numeric_limits<std::int64_t>::max() / 1000;
  std::int64_t s = t.time_since_epoch().count();
  if (s > kLimit) s = kLimit;
  if (s < -kLimit) s = -kLimit;
  return s * 1000;
}

}  // namespace

ScheduleGate::ScheduleGate(const Schedule& schedule)
    : schedule_(schedule), zone_(find_zone(schedule.timezone)) {}

ScheduleGate::LocalMinute ScheduleGate::local(std::int64_t at_ms) {
  if (at_ms < offset_from_ms_ || at_ms >= offset_until_ms_) {
    using namespace std::chrono;
    const sys_seconds t{seconds(floor_div(at_ms, 1000))};
    const date::sys_info info = zone_->get_info(t);
    offset_ms_ = info.offset.count() * 1000;
    offset_from_ms_ = clamp_ms(info.begin);
    offset_until_ms_ = clamp_ms(info.end);
  }
  const std::int64_t local_ms = at_ms + offset_ms_;
  LocalMinute local;
  local.day = floor_div(local_ms, kDayMs);
  local.minute = static_cast<int>((local_ms - local.day * kDayMs) / 60'000);
  // 1970-01-01 was a Thursday (index 3 when Monday is 0).
  local.weekday = static_cast<int>(((local.day + 3) % 7 + 7) % 7);
  return local;
}

bool ScheduleGate::active(std::int64_t at_ms) {
  const LocalMinute now = local(at_ms);
  auto on = [&](int weekday) { return (schedule_.days & (1U << weekday)) != 0; };
  if (schedule_.start_minute < schedule_.end_minute) {
    return on(now.weekday) && now.minute >= schedule_.start_minute && now.minute < schedule_.end_minute;
  }
  // Past midnight: the evening belongs to today, the early hours to the day before.
  if (now.minute >= schedule_.start_minute) return on(now.weekday);
  return now.minute < schedule_.end_minute && on((now.weekday + 6) % 7);
}

}  // namespace factoryops::rules
