// Answers "is this rule's schedule active at instant t" for one Schedule, in its IANA zone, with
// daylight-saving changes handled by the zone's rules. Caches the zone's current UTC offset, so
// a call costs a few integer operations; not thread-safe (one gate per evaluator and rule).
#pragma once

#include <cstdint>

#include "rules/rule.hpp"

namespace date {
class time_zone;
}  // namespace date

namespace factoryops::rules {

class ScheduleGate {
 public:
  // core::Invalid("schedule.timezone", …) when the zone is unknown.
  explicit ScheduleGate(const Schedule& schedule);

  bool active(std::int64_t at_ms);

  // The local wall-clock minute of `at_ms`: days since 1970-01-01 (local) and minute of that day.
  struct LocalMinute {
    std::int64_t day = 0;
    int minute = 0;
    int weekday = 0;  // 0 = Monday
  };
  LocalMinute local(std::int64_t at_ms);

 private:
  Schedule schedule_;
  const date::time_zone* zone_;
  // The span of UTC instants over which the zone's offset is offset_ms_.
  std::int64_t offset_from_ms_ = 0;
  std::int64_t offset_until_ms_ = 0;
  std::int64_t offset_ms_ = 0;
};

}  // namespace factoryops::rules
