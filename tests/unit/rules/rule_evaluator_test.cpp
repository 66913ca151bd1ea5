#include "rules/rule_evaluator.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "unit/rules/rule_test_support.hpp"

namespace factoryops::rules {
namespace {
using namespace testing;

std::string threshold_rule(const std::string& op, double threshold, const std::string& extra = "") {
  return R"({"name":"r","severity":"major","clear_after_seconds":0,"cooldown_seconds":0,)" + extra +
         R"("conditions":[{"kind":"threshold","parameter":"p","op":")" + op + R"(","threshold":)" +
         std::to_string(threshold) + "}]}";
}

TEST(RuleEvaluator, EveryComparison) {
  struct Case {
    const char* op;
    double value;
    bool fires;
  };
  const std::vector<Case> cases = {
      {">", 10.5, true}, {">", 10, false},     {">=", 10, true},    {">=", 9.9, false},
      {"<", 9.5, true},  {"<", 10, false},     {"<=", 10, true},    {"<=", 10.1, false},
      {"==", 10, true},  {"==", 10.01, false}, {"!=", 10.01, true}, {"!=", 10, false},
  };
  for (const auto& c : cases) {
    Feeder feeder({rule_from(1, threshold_rule(c.op, 10))});
    auto events = feeder.feed("m1", kT0, {{"p", c.value}});
    ASSERT_EQ(events.size(), c.fires ? 1U : 0U) << c.op << " " << c.value;
    if (!c.fires) continue;
    EXPECT_EQ(events[0].kind, EventKind::fire);
    EXPECT_EQ(events[0].rule_id, 1);
    EXPECT_EQ(events[0].device_id, "m1");
    EXPECT_EQ(events[0].severity, Severity::major);
    EXPECT_EQ(events[0].parameter, "p");
    EXPECT_EQ(events[0].value, c.value);
    EXPECT_EQ(events[0].threshold, 10);
    EXPECT_EQ(events[0].started_at_ms, kT0);
    EXPECT_EQ(events[0].at_ms, kT0);
    EXPECT_TRUE(events[0].notify);
  }
}

TEST(RuleEvaluator, BetweenIsInclusiveOutsideIsStrict) {
  const std::string between =
      R"({"name":"b","severity":"info","clear_after_seconds":0,"conditions":[{"kind":"between","parameter":"t","low":10,"high":20}]})";
  const std::string outside =
      R"({"name":"o","severity":"info","clear_after_seconds":0,"conditions":[{"kind":"outside","parameter":"t","low":10,"high":20}]})";
  for (double v : {10.0, 15.0, 20.0}) {
    Feeder feeder({rule_from(1, between)});
    EXPECT_EQ(feeder.feed("m", kT0, {{"t", v}}).size(), 1U) << v;
  }
  for (double v : {9.99, 20.01}) {
    Feeder feeder({rule_from(1, between)});
    EXPECT_TRUE(feeder.feed("m", kT0, {{"t", v}}).empty()) << v;
  }
  for (double v : {10.0, 15.0, 20.0}) {
    Feeder feeder({rule_from(1, outside)});
    EXPECT_TRUE(feeder.feed("m", kT0, {{"t", v}}).empty()) << v;
  }
  Feeder low({rule_from(1, outside)});
  auto events = low.feed("m", kT0, {{"t", 9.5}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].threshold, 10);  // the bound crossed
  Feeder high({rule_from(1, outside)});
  events = high.feed("m", kT0, {{"t", 21}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].threshold, 20);
}

TEST(RuleEvaluator, FifteenMinuteDemandAverage) {
  Feeder feeder({rule_from(1, R"({"name":"demand","severity":"major","clear_after_seconds":0,
      "conditions":[{"kind":"window","parameter":"power_kw","function":"avg","minutes":15,"op":">","threshold":100}]})")});
  // A steady 90 kW for 15 minutes, one reading a minute.
  for (int m = 0; m < 15; ++m) ASSERT_TRUE(feeder.feed("m", kT0 + m * kMinute, {{"power_kw", 90}}).empty());
  // One minute at 200 kW: the 15-minute average is (14 * 90 + 200) / 15 = 97.3, under 100.
  ASSERT_TRUE(feeder.feed("m", kT0 + 15 * kMinute, {{"power_kw", 200}}).empty());
  // A second minute: (13 * 90 + 2 * 200) / 15 = 104.7; the 90 of minute 0 has left the window.
  auto events = feeder.feed("m", kT0 + 16 * kMinute, {{"power_kw", 200}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::fire);
  EXPECT_NEAR(events[0].value, (13 * 90 + 2 * 200) / 15.0, 1e-9);
  EXPECT_EQ(events[0].threshold, 100);
  // Back to 90: both 200s stay in the window until minute 29 (it holds minutes 15..29).
  for (int m = 17; m < 30; ++m) {
    ASSERT_TRUE(feeder.feed("m", kT0 + m * kMinute, {{"power_kw", 90}}).empty()) << m;
  }
  // Minute 30: the window holds minutes 16..30, one 200 left: (14 * 90 + 200) / 15 = 97.3.
  events = feeder.feed("m", kT0 + 30 * kMinute, {{"power_kw", 90}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::clear);
  EXPECT_NEAR(events[0].value, (14 * 90 + 200) / 15.0, 1e-9);
}

TEST(RuleEvaluator, WindowMinMaxSum) {
  auto rule = [](int id, const char* function, const char* op, double threshold) {
    return rule_from(
        id,
        std::string(
            R"({"name":"w","severity":"info","conditions":[{"kind":"window","parameter":"p","minutes":5,"function":")") +
            function + R"(","op":")" + op + R"(","threshold":)" + std::to_string(threshold) + "}]}");
  };
  Feeder feeder(
      {rule(1, "min", "<", 2), rule(2, "max", ">", 9), rule(3, "sum", ">=", 15), rule(4, "max", ">", 50)});
  std::vector<std::int64_t> fired;
  for (int i = 0; i < 4; ++i) {
    for (const auto& e : feeder.feed("m", kT0 + i * kMinute, {{"p", std::vector<double>{5, 1, 10, 3}[i]}})) {
      fired.push_back(e.rule_id * 100 + i);
    }
  }
  // min < 2 when 1 arrives (i=1), max > 9 when 10 arrives (i=2), sum >= 15 once 5+1+10 (i=2).
  EXPECT_EQ(fired, (std::vector<std::int64_t>{101, 202, 302}));
}

TEST(RuleEvaluator, RateOfChangePerMinute) {
  Feeder feeder({rule_from(1, R"({"name":"rise","severity":"minor","clear_after_seconds":0,
      "conditions":[{"kind":"rate","parameter":"temp","op":">","threshold":1.5}]})"),
                 rule_from(2, R"({"name":"fall","severity":"minor","clear_after_seconds":0,
      "conditions":[{"kind":"rate","parameter":"temp","op":"<","threshold":-3}]})")});
  EXPECT_TRUE(feeder.feed("m", kT0, {{"temp", 20}}).empty());  // no previous value: no rate
  // +0.5 in 30 s is 1 per minute: under 1.5.
  EXPECT_TRUE(feeder.feed("m", kT0 + 30 * kSecond, {{"temp", 20.5}}).empty());
  // +1 in 30 s is 2 per minute.
  auto events = feeder.feed("m", kT0 + 60 * kSecond, {{"temp", 21.5}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].rule_id, 1);
  EXPECT_NEAR(events[0].value, 2.0, 1e-9);
  // -2 in 30 s is -4 per minute: the rise rule clears, the fall rule fires.
  events = feeder.feed("m", kT0 + 90 * kSecond, {{"temp", 19.5}});
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].rule_id, 1);
  EXPECT_EQ(events[0].kind, EventKind::clear);
  EXPECT_EQ(events[1].rule_id, 2);
  EXPECT_EQ(events[1].kind, EventKind::fire);
  EXPECT_NEAR(events[1].value, -4.0, 1e-9);
}

TEST(RuleEvaluator, NoDataFiresFromTheInjectedClock) {
  Feeder feeder({rule_from(1, R"({"name":"silent","severity":"warning","clear_after_seconds":0,
      "conditions":[{"kind":"no_data","minutes":5}]})")});
  feeder.evaluator().set_devices({DeviceProfile{"m1", "", ""}, DeviceProfile{"m2", "", ""}});
  EXPECT_TRUE(feeder.tick(kT0).empty());  // the clock starts counting for machines never heard from
  EXPECT_TRUE(feeder.feed("m1", kT0 + 2 * kMinute, {{"x", 1}}).empty());
  EXPECT_TRUE(feeder.tick(kT0 + 4 * kMinute).empty());
  auto events = feeder.tick(kT0 + 5 * kMinute);  // m2: silent for 5 minutes since known
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].device_id, "m2");
  EXPECT_EQ(events[0].value, 300);
  EXPECT_EQ(events[0].threshold, 300);
  EXPECT_TRUE(feeder.tick(kT0 + 6 * kMinute + 59 * kSecond).empty());
  events = feeder.tick(kT0 + 7 * kMinute);  // m1: 5 minutes after its last reading
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].device_id, "m1");
  EXPECT_EQ(events[0].started_at_ms, kT0 + 7 * kMinute);
  // Data again: the reading itself clears the alert (clear_after 0).
  events = feeder.feed("m1", kT0 + 8 * kMinute, {{"y", 1}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::clear);
}

TEST(RuleEvaluator, NoDataOfOneParameterIgnoresOthers) {
  Feeder feeder({rule_from(1, R"({"name":"meter","severity":"warning",
      "conditions":[{"kind":"no_data","parameter":"energy_kwh","minutes":10}]})")});
  feeder.feed("m", kT0, {{"energy_kwh", 1}, {"power_kw", 3}});
  for (int m = 1; m <= 9; ++m) feeder.feed("m", kT0 + m * kMinute, {{"power_kw", 3}});
  EXPECT_TRUE(feeder.tick(kT0 + 9 * kMinute).empty());
  auto events = feeder.tick(kT0 + 10 * kMinute);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].parameter, "energy_kwh");
}

TEST(RuleEvaluator, AndNeedsEveryConditionOrAny) {
  const std::string conditions = R"("clear_after_seconds":0,"conditions":[
      {"kind":"threshold","parameter":"power","op":">","threshold":75},
      {"kind":"threshold","parameter":"pressure","op":"<","threshold":6}]})";
  Feeder both({rule_from(1, R"({"name":"and","severity":"major","logic":"and",)" + conditions)});
  Feeder either({rule_from(1, R"({"name":"or","severity":"major","logic":"or",)" + conditions)});
  EXPECT_TRUE(both.feed("m", kT0, {{"power", 80}, {"pressure", 7}}).empty());
  EXPECT_EQ(either.feed("m", kT0, {{"power", 80}, {"pressure", 7}}).size(), 1U);
  // The pressure drops in a later reading: the last power value still holds.
  auto events = both.feed("m", kT0 + kSecond, {{"pressure", 5}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::fire);
  events = both.feed("m", kT0 + 2 * kSecond, {{"power", 70}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::clear);
  // OR stays true while one of them holds.
  EXPECT_TRUE(either.feed("m", kT0 + kSecond, {{"power", 70}, {"pressure", 5}}).empty());
  events = either.feed("m", kT0 + 2 * kSecond, {{"pressure", 6}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::clear);
}

TEST(RuleEvaluator, DurationMustElapseBeforeFiring) {
  Feeder feeder({rule_from(7, threshold_rule(">", 75, R"("duration_seconds":300,)"))});
  for (int s = 0; s < 300; s += 10) {
    ASSERT_TRUE(feeder.feed("m", kT0 + s * kSecond, {{"p", 80}}).empty()) << s;
  }
  auto events = feeder.feed("m", kT0 + 300 * kSecond, {{"p", 80}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].started_at_ms, kT0);
  EXPECT_EQ(events[0].at_ms, kT0 + 300 * kSecond);
  // A dip restarts the count: the second episode needs 300 s from its own start.
  Feeder dipping({rule_from(7, threshold_rule(">", 75, R"("duration_seconds":300,)"))});
  dipping.feed("m", kT0, {{"p", 80}});
  dipping.feed("m", kT0 + 200 * kSecond, {{"p", 70}});
  dipping.feed("m", kT0 + 210 * kSecond, {{"p", 80}});
  EXPECT_TRUE(dipping.feed("m", kT0 + 500 * kSecond, {{"p", 80}}).empty());
  EXPECT_EQ(dipping.feed("m", kT0 + 510 * kSecond, {{"p", 80}}).size(), 1U);
}

TEST(RuleEvaluator, HysteresisPreventsFlapping) {
  Feeder feeder(
      {rule_from(1, R"({"name":"h","severity":"critical","clear_after_seconds":60,"cooldown_seconds":0,
      "conditions":[{"kind":"threshold","parameter":"p","op":">","threshold":75,"clear_threshold":70}]})")});
  std::vector<Event> all;
  auto collect = [&](std::int64_t ts, double v) {
    for (auto& e : feeder.feed("m", ts, {{"p", v}})) all.push_back(e);
  };
  // Hovering around the threshold for ten minutes: one fire, never a clear.
  for (int s = 0; s < 600; s += 10) collect(kT0 + s * kSecond, s % 20 == 0 ? 76 : 74);
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].kind, EventKind::fire);
  // Below the clear threshold for 50 s, then 72 again: still not cleared.
  for (int s = 600; s < 650; s += 10) collect(kT0 + s * kSecond, 69);
  collect(kT0 + 650 * kSecond, 72);
  EXPECT_EQ(all.size(), 1U);
  // At or below 70 for a full minute clears, exactly once.
  for (int s = 660; s <= 720; s += 10) collect(kT0 + s * kSecond, 70);
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[1].kind, EventKind::clear);
  EXPECT_EQ(all[1].at_ms, kT0 + 720 * kSecond);
  EXPECT_EQ(all[1].started_at_ms, kT0);
  // Without hysteresis the same hovering would fire, clear and fire again.
  Feeder plain({rule_from(1, threshold_rule(">", 75))});
  std::size_t transitions = 0;
  for (int s = 0; s < 100; s += 10)
    transitions += plain.feed("m", kT0 + s * kSecond, {{"p", s % 20 == 0 ? 76.0 : 74.0}}).size();
  EXPECT_EQ(transitions, 10U);
}

TEST(RuleEvaluator, DefaultClearNeedsFalseForTheWholePeriod) {
  Feeder feeder({rule_from(1, R"({"name":"d","severity":"minor",
      "conditions":[{"kind":"threshold","parameter":"p","op":">","threshold":75}]})")});
  ASSERT_EQ(feeder.feed("m", kT0, {{"p", 80}}).size(), 1U);
  EXPECT_TRUE(feeder.feed("m", kT0 + 30 * kSecond, {{"p", 60}}).empty());
  EXPECT_TRUE(feeder.feed("m", kT0 + 80 * kSecond, {{"p", 60}}).empty());
  auto events = feeder.feed("m", kT0 + 90 * kSecond, {{"p", 60}});  // 60 s after the first false
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::clear);
}

TEST(RuleEvaluator, CooldownSilencesQuickRefiresAndRepeatReminds) {
  Feeder feeder(
      {rule_from(1, R"({"name":"c","severity":"major","clear_after_seconds":0,"cooldown_seconds":900,
      "conditions":[{"kind":"threshold","parameter":"p","op":">","threshold":75}]})")});
  auto fire1 = feeder.feed("m", kT0, {{"p", 80}});
  ASSERT_EQ(fire1.size(), 1U);
  EXPECT_TRUE(fire1[0].notify);
  ASSERT_EQ(feeder.feed("m", kT0 + kMinute, {{"p", 60}})[0].kind, EventKind::clear);
  auto fire2 = feeder.feed("m", kT0 + 5 * kMinute, {{"p", 80}});  // within 15 minutes of the last notice
  ASSERT_EQ(fire2.size(), 1U);
  EXPECT_EQ(fire2[0].kind, EventKind::fire);
  EXPECT_FALSE(fire2[0].notify);
  feeder.feed("m", kT0 + 6 * kMinute, {{"p", 60}});
  auto fire3 = feeder.feed("m", kT0 + 15 * kMinute, {{"p", 80}});
  ASSERT_EQ(fire3.size(), 1U);
  EXPECT_TRUE(fire3[0].notify);

  Feeder repeating({rule_from(2, R"({"name":"r","severity":"major","cooldown_seconds":60,"repeat_seconds":600,
      "conditions":[{"kind":"threshold","parameter":"p","op":">","threshold":75}]})")});
  std::vector<std::int64_t> reminders;
  for (int s = 0; s <= 1800; s += 30) {
    for (const auto& e : repeating.feed("m", kT0 + s * kSecond, {{"p", 80}})) {
      if (e.kind == EventKind::renotify) {
        EXPECT_TRUE(e.notify);
        EXPECT_EQ(e.started_at_ms, kT0);
        reminders.push_back((e.at_ms - kT0) / kSecond);
      }
    }
  }
  EXPECT_EQ(reminders, (std::vector<std::int64_t>{600, 1200, 1800}));
}

TEST(RuleEvaluator, ScheduleFollowsBerlinAcrossTheSpringChange) {
  // Every day 08:00-18:00 Berlin time. On Saturday 28 March 2026 Berlin is UTC+1; from Sunday
  // 29 March 02:00 it is UTC+2, so 08:00 local moves from 07:00 to 06:00 UTC.
  const Rule rule = rule_from(
      1,
      threshold_rule(
          ">", 75,
          R"("schedule":{"days":["mon","tue","wed","thu","fri","sat","sun"],"start":"08:00","end":"18:00"},)"),
      "Europe/Berlin");
  Feeder saturday({rule});
  EXPECT_TRUE(saturday.feed("m", utc(2026, 3, 28, 6, 30), {{"p", 80}}).empty());  // 07:30 CET
  EXPECT_EQ(saturday.feed("m", utc(2026, 3, 28, 7, 0), {{"p", 80}}).size(), 1U);  // 08:00 CET
  Feeder sunday({rule});
  EXPECT_TRUE(sunday.feed("m", utc(2026, 3, 29, 5, 59), {{"p", 80}}).empty());  // 07:59 CEST
  EXPECT_EQ(sunday.feed("m", utc(2026, 3, 29, 6, 0), {{"p", 80}}).size(), 1U);  // 08:00 CEST
  Feeder evening({rule});
  EXPECT_EQ(evening.feed("m", utc(2026, 3, 29, 15, 59), {{"p", 80}}).size(), 1U);  // 17:59 CEST
  // 18:00 CEST: outside the schedule the rule counts as false and its alert clears.
  auto events = evening.feed("m", utc(2026, 3, 29, 16, 0), {{"p", 80}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::clear);
}

TEST(RuleEvaluator, ScheduleInKolkataHalfHourOffset) {
  // Weekdays 09:00-17:30 India time (UTC+5:30, no daylight saving).
  const Rule rule = rule_from(
      1,
      threshold_rule(">", 75,
                     R"("schedule":{"days":["mon","tue","wed","thu","fri"],"start":"09:00","end":"17:30"},)"),
      "Asia/Kolkata");
  Feeder early({rule});
  EXPECT_TRUE(early.feed("m", utc(2026, 3, 2, 3, 29), {{"p", 80}}).empty());   // Mon 08:59 IST
  EXPECT_EQ(early.feed("m", utc(2026, 3, 2, 3, 30), {{"p", 80}}).size(), 1U);  // Mon 09:00 IST
  Feeder late({rule});
  EXPECT_EQ(late.feed("m", utc(2026, 3, 2, 11, 59), {{"p", 80}}).size(), 1U);  // Mon 17:29 IST
  Feeder after({rule});
  EXPECT_TRUE(after.feed("m", utc(2026, 3, 2, 12, 0), {{"p", 80}}).empty());  // Mon 17:30 IST
  Feeder weekend({rule});
  EXPECT_TRUE(weekend.feed("m", utc(2026, 3, 7, 6, 0), {{"p", 80}}).empty());  // Sat 11:30 IST
}

TEST(RuleEvaluator, StateSurvivesARestartMidDuration) {
  const std::vector<Rule> rules = {rule_from(3, threshold_rule(">", 75, R"("duration_seconds":300,)")),
                                   rule_from(4, R"({"name":"demand","severity":"info","clear_after_seconds":0,
      "conditions":[{"kind":"window","parameter":"kw","function":"avg","minutes":15,"op":">","threshold":100}]})")};
  Feeder before(rules);
  for (int s = 0; s <= 150; s += 10)
    ASSERT_TRUE(before.feed("m", kT0 + s * kSecond, {{"p", 80}, {"kw", 95}}).empty());
  const std::string saved = before.evaluator().save_state();
  const auto device_saved = before.evaluator().save_device_state("m");
  ASSERT_TRUE(device_saved.has_value());
  EXPECT_FALSE(before.evaluator().save_device_state("nobody").has_value());

  for (int variant = 0; variant < 2; ++variant) {
    Feeder after(rules);
    if (variant == 0) after.evaluator().restore_state(saved);
    if (variant == 1) after.evaluator().restore_device_state(*device_saved);
    for (int s = 160; s < 300; s += 10)
      ASSERT_TRUE(after.feed("m", kT0 + s * kSecond, {{"p", 80}}).empty()) << s;
    auto events = after.feed("m", kT0 + 300 * kSecond, {{"p", 80}});
    ASSERT_EQ(events.size(), 1U) << variant;
    EXPECT_EQ(events[0].started_at_ms, kT0);
    // The restored 15-minute window still holds the 95s: one 200 lifts the average just over 100.
    events = after.feed("m", kT0 + 310 * kSecond, {{"kw", 200}});
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].rule_id, 4);
    EXPECT_NEAR(events[0].value, (16 * 95 + 200) / 17.0, 1e-9);
    EXPECT_EQ(after.evaluator().open_states().size(), 2U);
  }
  // Without the saved state the count starts again.
  Feeder fresh(rules);
  EXPECT_TRUE(fresh.feed("m", kT0 + 300 * kSecond, {{"p", 80}}).empty());
  EXPECT_THROW(fresh.evaluator().restore_state("{\"v\":1,\"devices\":[{\"id\":3}]}"), core::Invalid);
  EXPECT_THROW(fresh.evaluator().restore_state("not json"), core::Invalid);
}

TEST(RuleEvaluator, RestoringAMachineReplacesItsStateWhole) {
  // A replica loads the machine's saved state before each batch: what it remembers itself must
  // not leak in. Here it remembers a value of p that the saved state has never seen.
  const std::vector<Rule> rules = {
      rule_from(
          3,
          R"({"name":"jump","severity":"info","conditions":[{"kind":"rate","parameter":"p","op":">","threshold":50}]})"),
      rule_from(
          4,
          R"({"name":"q","severity":"info","conditions":[{"kind":"threshold","parameter":"q","op":">","threshold":5}]})")};
  Feeder other(rules);
  other.feed("m", kT0, {{"q", 1}});
  const auto saved = other.evaluator().save_device_state("m");
  ASSERT_TRUE(saved.has_value());
  Feeder replica(rules);
  replica.feed("m", kT0, {{"p", 10}});
  replica.evaluator().restore_device_state(*saved);
  // With no previous value of p there is no rate yet; the stale 10 would make it 90 per minute.
  EXPECT_TRUE(replica.feed("m", kT0 + kMinute, {{"p", 100}}).empty());
  auto events = replica.feed("m", kT0 + 2 * kMinute, {{"p", 200}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].value, 100);
}

TEST(RuleEvaluator, OpenAlertSurvivesRestartAndClears) {
  const std::vector<Rule> rules = {rule_from(3, threshold_rule(">", 75))};
  Feeder before(rules);
  ASSERT_EQ(before.feed("m", kT0, {{"p", 80}}).size(), 1U);
  Feeder after(rules);
  after.evaluator().restore_state(before.evaluator().save_state());
  EXPECT_TRUE(after.feed("m", kT0 + kSecond, {{"p", 80}}).empty());  // no second fire
  auto events = after.feed("m", kT0 + 2 * kSecond, {{"p", 10}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::clear);
  EXPECT_EQ(events[0].started_at_ms, kT0);
}

TEST(RuleEvaluator, RaisingSeverityEscalatesTheOpenAlert) {
  Rule rule = rule_from(5, threshold_rule(">", 75));
  Feeder feeder({rule});
  ASSERT_EQ(feeder.feed("m", kT0, {{"p", 80}}).size(), 1U);
  rule.severity = Severity::critical;
  feeder.evaluator().upsert_rule(rule);
  auto events = feeder.feed("m", kT0 + kSecond, {{"p", 80}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::escalate);
  EXPECT_EQ(events[0].severity, Severity::critical);
  EXPECT_TRUE(events[0].notify);
  EXPECT_EQ(events[0].started_at_ms, kT0);
  EXPECT_TRUE(feeder.feed("m", kT0 + 2 * kSecond, {{"p", 80}}).empty());
  // Changing the threshold keeps the alert open; it clears by the new condition.
  rule.conditions[0].threshold = 90;
  feeder.evaluator().upsert_rule(rule);
  EXPECT_EQ(feeder.evaluator().open_states().size(), 1U);
  events = feeder.feed("m", kT0 + 3 * kSecond, {{"p", 85}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, EventKind::clear);
}

TEST(RuleEvaluator, ScopesSelectMachines) {
  const std::string body =
      R"({"name":"s","severity":"info","conditions":[{"kind":"threshold","parameter":"p","op":">","threshold":1}],"scope":)";
  Feeder feeder({rule_from(1, body + R"({"kind":"devices","device_ids":["a"]}})"),
                 rule_from(2, body + R"({"kind":"type","device_type":"compressor"}})"),
                 rule_from(3, body + R"({"kind":"line","line":"L2"}})"),
                 rule_from(4, body + R"({"kind":"all"}})")});
  feeder.evaluator().set_devices({DeviceProfile{"a", "pump", "L1"}, DeviceProfile{"b", "compressor", "L2"},
                                  DeviceProfile{"c", "compressor", "L1"}});
  auto fired = [&](const std::string& device) {
    std::vector<std::int64_t> ids;
    for (const auto& e : feeder.feed(device, kT0, {{"p", 5}})) ids.push_back(e.rule_id);
    return ids;
  };
  EXPECT_EQ(fired("a"), (std::vector<std::int64_t>{1, 4}));
  EXPECT_EQ(fired("b"), (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_EQ(fired("c"), (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(fired("unlisted"), (std::vector<std::int64_t>{4}));
  // Moving c to line L2 brings rule 3 in.
  feeder.evaluator().upsert_device(DeviceProfile{"c", "compressor", "L2"});
  EXPECT_EQ(fired("c"), (std::vector<std::int64_t>{3}));
}

TEST(RuleEvaluator, LateReadingsChangeNoState) {
  Feeder feeder({rule_from(1, threshold_rule(">", 75))});
  EXPECT_TRUE(feeder.feed("m", kT0 + kMinute, {{"p", 10}}).empty());
  EXPECT_TRUE(feeder.feed("m", kT0, {{"p", 99}}).empty());  // older than what was evaluated
  EXPECT_EQ(feeder.evaluator().stats().late_readings, 1U);
  EXPECT_EQ(feeder.feed("m", kT0 + 2 * kMinute, {{"p", 99}}).size(), 1U);
}

TEST(RuleEvaluator, BatchesAreEvaluatedOldestFirst) {
  RuleEvaluator evaluator(core::FactoryId("acme"));
  evaluator.set_rules({rule_from(1, threshold_rule(">", 75, R"("duration_seconds":60,)"))});
  tsdb::DeviceBatch batch{core::FactoryId("acme"), core::DeviceId("m"), {}};
  batch.readings.push_back(tsdb::Reading{kT0 + kMinute, {tsdb::Field{"p", 80}}});
  batch.readings.push_back(tsdb::Reading{kT0, {tsdb::Field{"p", 80}}});
  std::vector<Event> out;
  evaluator.evaluate(batch, out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].started_at_ms, kT0);
  tsdb::DeviceBatch other{core::FactoryId("other"), core::DeviceId("m"), batch.readings};
  EXPECT_THROW(evaluator.evaluate(other, out), core::Invalid);
}

TEST(RuleEvaluator, TwoReplicasEmitTheSameEpisode) {
  const std::vector<Rule> rules = {rule_from(1, threshold_rule(">", 75, R"("duration_seconds":30,)"))};
  Feeder a(rules);
  Feeder b(rules);
  std::vector<Event> from_a, from_b;
  for (int s = 0; s <= 60; s += 5) {
    for (auto& e : a.feed("m", kT0 + s * kSecond, {{"p", 80}})) from_a.push_back(e);
    for (auto& e : b.feed("m", kT0 + s * kSecond, {{"p", 80}})) from_b.push_back(e);
  }
  ASSERT_EQ(from_a.size(), 1U);
  ASSERT_EQ(from_b.size(), 1U);
  // The alert store keys an open alert by (rule, machine); started_at names the episode.
  EXPECT_EQ(from_a[0].rule_id, from_b[0].rule_id);
  EXPECT_EQ(from_a[0].device_id, from_b[0].device_id);
  EXPECT_EQ(from_a[0].started_at_ms, from_b[0].started_at_ms);
  EXPECT_EQ(from_a[0].at_ms, from_b[0].at_ms);
}

TEST(RuleEvaluator, ResolvedByHandStartsANewEpisode) {
  Feeder feeder({rule_from(1, threshold_rule(">", 75, R"("duration_seconds":60,)"))});
  feeder.feed("m", kT0, {{"p", 80}});
  ASSERT_EQ(feeder.feed("m", kT0 + kMinute, {{"p", 80}}).size(), 1U);
  feeder.evaluator().mark_resolved(1, "m");
  EXPECT_TRUE(feeder.evaluator().open_states().empty());
  EXPECT_TRUE(feeder.feed("m", kT0 + 90 * kSecond, {{"p", 80}}).empty());
  auto events = feeder.feed("m", kT0 + 150 * kSecond, {{"p", 80}});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].started_at_ms, kT0 + 90 * kSecond);
}

TEST(RuleEvaluator, DisabledAndRemovedRulesAreNotEvaluated) {
  Rule rule = rule_from(1, threshold_rule(">", 75));
  rule.enabled = false;
  Feeder feeder({rule});
  EXPECT_TRUE(feeder.feed("m", kT0, {{"p", 80}}).empty());
  rule.enabled = true;
  feeder.evaluator().upsert_rule(rule);
  EXPECT_EQ(feeder.feed("m", kT0 + kSecond, {{"p", 80}}).size(), 1U);
  feeder.evaluator().remove_rule(1);
  EXPECT_TRUE(feeder.feed("m", kT0 + 2 * kSecond, {{"p", 10}}).empty());
  EXPECT_TRUE(feeder.evaluator().open_states().empty());
  Rule unsaved = rule;
  unsaved.id = 0;
  EXPECT_THROW(feeder.evaluator().set_rules({unsaved}), core::Invalid);
}

}  // namespace
}  // namespace factoryops::rules
