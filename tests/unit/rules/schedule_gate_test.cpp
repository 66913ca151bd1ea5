#include "rules/schedule_gate.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "unit/rules/rule_test_support.hpp"

namespace factoryops::rules {
namespace {
using testing::utc;

Schedule schedule(std::uint8_t days, int start, int end, const char* zone) {
  Schedule s;
  s.days = days;
  s.start_minute = start;
  s.end_minute = end;
  s.timezone = zone;
  return s;
}

TEST(ScheduleGate, BerlinAutumnChangeKeepsLocalHours) {
  // Sunday 25 October 2026: Berlin goes back from UTC+2 to UTC+1 at 03:00 local.
  ScheduleGate gate(schedule(0x7F, 8 * 60, 18 * 60, "Europe/Berlin"));
  EXPECT_FALSE(gate.active(utc(2026, 10, 24, 5, 59)));  // Sat 07:59 CEST
  EXPECT_TRUE(gate.active(utc(2026, 10, 24, 6, 0)));    // Sat 08:00 CEST
  EXPECT_FALSE(gate.active(utc(2026, 10, 25, 6, 30)));  // Sun 07:30 CET
  EXPECT_TRUE(gate.active(utc(2026, 10, 25, 7, 0)));    // Sun 08:00 CET
  EXPECT_TRUE(gate.active(utc(2026, 10, 25, 16, 59)));  // Sun 17:59 CET
  EXPECT_FALSE(gate.active(utc(2026, 10, 25, 17, 0)));  // Sun 18:00 CET
  // Going back in time refreshes the cached offset too.
  EXPECT_TRUE(gate.active(utc(2026, 10, 24, 15, 59)));  // Sat 17:59 CEST
}

TEST(ScheduleGate, LocalMinuteAcrossTheSpringGap) {
  ScheduleGate gate(schedule(0x7F, 0, 1440, "Europe/Berlin"));
  auto before = gate.local(utc(2026, 3, 29, 0, 59));  // 01:59 CET
  auto after = gate.local(utc(2026, 3, 29, 1, 0));    // 03:00 CEST: 02:xx does not exist that day
  EXPECT_EQ(before.minute, 1 * 60 + 59);
  EXPECT_EQ(after.minute, 3 * 60);
  EXPECT_EQ(before.weekday, 6);  // Sunday
  EXPECT_EQ(before.day, after.day);
}

TEST(ScheduleGate, OvernightWindowBelongsToTheDayItStarts) {
  // Fridays 22:00 to 06:00, Kolkata time.
  ScheduleGate gate(schedule(1U << 4, 22 * 60, 6 * 60, "Asia/Kolkata"));
  EXPECT_FALSE(gate.active(utc(2026, 3, 6, 16, 29)));  // Fri 21:59 IST
  EXPECT_TRUE(gate.active(utc(2026, 3, 6, 16, 30)));   // Fri 22:00 IST
  EXPECT_TRUE(gate.active(utc(2026, 3, 6, 23, 29)));   // Sat 04:59 IST
  EXPECT_FALSE(gate.active(utc(2026, 3, 7, 0, 30)));   // Sat 06:00 IST
  EXPECT_FALSE(gate.active(utc(2026, 3, 7, 17, 0)));   // Sat 22:30 IST: Saturday is not listed
  EXPECT_FALSE(gate.active(utc(2026, 3, 1, 23, 0)));   // Mon 04:30 IST: Sunday is not listed
}

TEST(ScheduleGate, UnknownZoneIsInvalid) {
  EXPECT_THROW(ScheduleGate(schedule(0x7F, 0, 60, "Atlantis/Capital")), core::Invalid);
}

}  // namespace
}  // namespace factoryops::rules
