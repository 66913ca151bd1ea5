#include "rules/rule.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>

#include "core/errors.hpp"

namespace factoryops::rules {
namespace {
namespace json = boost::json;

// The issue's example: compressor power above 75 kW for 5 minutes, critical.
constexpr const char* kCompressorRule = R"({
  "name": "Compressor power high",
  "severity": "critical",
  "scope": {"kind": "type", "device_type": "compressor"},
  "logic": "and",
  "conditions": [{"kind": "threshold", "parameter": "power_kw", "op": ">", "threshold": 75,
                  "clear_threshold": 70}],
  "duration_seconds": 300,
  "clear_after_seconds": 60,
  "cooldown_seconds": 900,
  "schedule": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "06:00", "end": "22:00"},
  "channels": {"email": ["Maintenance@Example.com"], "whatsapp": ["+4915112345678"], "in_app": true}
})";

json::object base() {
  return json::parse(kCompressorRule).as_object();
}

TEST(RuleJson, ParsesTheCompressorExample) {
  Rule rule = parse_rule(kCompressorRule, "Europe/Berlin");
  EXPECT_EQ(rule.name, "Compressor power high");
  EXPECT_EQ(rule.severity, Severity::critical);
  EXPECT_EQ(rule.scope.kind, ScopeKind::device_type);
  EXPECT_EQ(rule.scope.device_type, "compressor");
  ASSERT_EQ(rule.conditions.size(), 1U);
  EXPECT_EQ(rule.conditions[0].kind, ConditionKind::threshold);
  EXPECT_EQ(rule.conditions[0].op, Comparison::gt);
  EXPECT_EQ(rule.conditions[0].threshold, 75);
  EXPECT_EQ(rule.conditions[0].clear_threshold, 70);
  EXPECT_EQ(rule.duration_seconds, 300);
  EXPECT_EQ(rule.cooldown_seconds, 900);
  ASSERT_TRUE(rule.schedule.has_value());
  EXPECT_EQ(rule.schedule->days, 0x1F);
  EXPECT_EQ(rule.schedule->start_minute, 360);
  EXPECT_EQ(rule.schedule->end_minute, 1320);
  EXPECT_EQ(rule.schedule->timezone, "Europe/Berlin");  // the factory's, as none was given
  EXPECT_EQ(rule.channels.emails, std::vector<std::string>{"maintenance@example.com"});
  EXPECT_EQ(rule.channels.whatsapp, std::vector<std::string>{"+4915112345678"});
}

TEST(RuleJson, DefaultsApplyWhenOmitted) {
  Rule rule =
      parse_rule(R"({"name":"n","severity":"info","conditions":[{"kind":"no_data","minutes":10}]})", "UTC");
  EXPECT_TRUE(rule.enabled);
  EXPECT_EQ(rule.scope.kind, ScopeKind::all);
  EXPECT_EQ(rule.logic, Logic::all_of);
  EXPECT_EQ(rule.duration_seconds, 0);
  EXPECT_EQ(rule.clear_after_seconds, kDefaultClearAfterSeconds);
  EXPECT_EQ(rule.cooldown_seconds, kDefaultCooldownSeconds);
  EXPECT_EQ(rule.repeat_seconds, 0);
  EXPECT_FALSE(rule.schedule.has_value());
  EXPECT_TRUE(rule.channels.in_app);
  EXPECT_TRUE(rule.conditions[0].parameter.empty());
}

TEST(RuleJson, RoundTripsEveryConditionKind) {
  json::object body = base();
  body["logic"] = "or";
  body["repeat_seconds"] = 3600;
  body["scope"] = json::parse(R"({"kind":"devices","device_ids":["press-2","comp-1"]})");
  body["conditions"] = json::parse(R"([
    {"kind":"between","parameter":"temp_c","low":10,"high":20.5},
    {"kind":"outside","parameter":"voltage","low":207,"high":253},
    {"kind":"window","parameter":"power_kw","function":"avg","minutes":15,"op":">=","threshold":500},
    {"kind":"rate","parameter":"temp_c","op":"<","threshold":-2.5,"clear_threshold":-1}
  ])");
  Rule rule = rule_from_json(body, "Asia/Kolkata");
  rule.id = 42;
  EXPECT_EQ(rule.scope.device_ids, (std::vector<std::string>{"comp-1", "press-2"}));
  Rule again = rule_from_json(rule_to_json(rule), "UTC");
  again.id = 42;
  EXPECT_EQ(again, rule);
  EXPECT_EQ(rule_to_json(rule).as_object().at("id").as_int64(), 42);
  EXPECT_EQ(referenced_parameters(rule), (std::vector<std::string>{"power_kw", "temp_c", "voltage"}));
}

TEST(RuleJson, DigestFollowsConditionsOnly) {
  Rule rule = parse_rule(kCompressorRule, "UTC");
  Rule renamed = rule;
  renamed.name = "other";
  renamed.severity = Severity::minor;
  EXPECT_EQ(condition_digest(rule), condition_digest(renamed));
  Rule changed = rule;
  changed.conditions[0].threshold = 80;
  EXPECT_NE(condition_digest(rule), condition_digest(changed));
}

TEST(RuleJson, SeveritiesAreOrderedWorstLast) {
  EXPECT_GT(Severity::critical, Severity::major);
  EXPECT_GT(Severity::major, Severity::minor);
  EXPECT_GT(Severity::minor, Severity::warning);
  EXPECT_GT(Severity::warning, Severity::info);
  for (auto name : {"info", "warning", "minor", "major", "critical"}) {
    ASSERT_TRUE(parse_severity(name).has_value()) << name;
    EXPECT_EQ(severity_name(*parse_severity(name)), name);
  }
  EXPECT_FALSE(parse_severity("fatal").has_value());
}

TEST(RuleJson, E164) {
  EXPECT_TRUE(is_e164("+4915112345678"));
  EXPECT_TRUE(is_e164("+919876543210"));
  EXPECT_FALSE(is_e164("4915112345678"));
  EXPECT_FALSE(is_e164("+0915112345678"));
  EXPECT_FALSE(is_e164("+49 151 1234567"));
  EXPECT_FALSE(is_e164("+1234567"));           // too short
  EXPECT_FALSE(is_e164("+1234567890123456"));  // 16 digits
}

struct BadCase {
  const char* what;
  std::function<void(json::object&)> edit;
  const char* field;
};

json::object& condition(json::object& body, std::size_t i) {
  return body["conditions"].as_array()[i].as_object();
}

TEST(RuleJson, ValidationNamesTheBadField) {
  const std::vector<BadCase> cases = {
      {"missing name", [](json::object& b) { b.erase("name"); }, "name"},
      {"blank name", [](json::object& b) { b["name"] = "  "; }, "name"},
      {"long name", [](json::object& b) { b["name"] = std::string(121, 'x'); }, "name"},
      {"name not a string", [](json::object& b) { b["name"] = 3; }, "name"},
      {"unknown severity", [](json::object& b) { b["severity"] = "fatal"; }, "severity"},
      {"missing severity", [](json::object& b) { b.erase("severity"); }, "severity"},
      {"unknown top-level field", [](json::object& b) { b["colour"] = "red"; }, "colour"},
      {"enabled not bool", [](json::object& b) { b["enabled"] = "yes"; }, "enabled"},
      {"bad logic", [](json::object& b) { b["logic"] = "xor"; }, "logic"},
      {"no conditions", [](json::object& b) { b["conditions"] = json::array{}; }, "conditions"},
      {"five conditions",
       [](json::object& b) {
         json::array list;
         for (int i = 0; i < 5; ++i) list.push_back(condition(b, 0));
         b["conditions"] = list;
       },
       "conditions"},
      {"missing kind", [](json::object& b) { condition(b, 0).erase("kind"); }, "conditions[0].kind"},
      {"unknown kind", [](json::object& b) { condition(b, 0)["kind"] = "trend"; }, "conditions[0].kind"},
      {"missing parameter", [](json::object& b) { condition(b, 0).erase("parameter"); },
       "conditions[0].parameter"},
      {"bad parameter key", [](json::object& b) { condition(b, 0)["parameter"] = "power kw"; },
       "conditions[0].parameter"},
      {"bad op", [](json::object& b) { condition(b, 0)["op"] = "=>"; }, "conditions[0].op"},
      {"missing threshold", [](json::object& b) { condition(b, 0).erase("threshold"); },
       "conditions[0].threshold"},
      {"string threshold", [](json::object& b) { condition(b, 0)["threshold"] = "75"; },
       "conditions[0].threshold"},
      {"second condition's threshold",
       [](json::object& b) {
         b["conditions"].as_array().push_back(
             json::parse(R"({"kind":"threshold","parameter":"p","op":"<","threshold":null})"));
       },
       "conditions[1].threshold"},
      {"clear threshold above a '>' threshold",
       [](json::object& b) { condition(b, 0)["clear_threshold"] = 80; }, "conditions[0].clear_threshold"},
      {"clear threshold with ==",
       [](json::object& b) {
         condition(b, 0)["op"] = "==";
         condition(b, 0)["clear_threshold"] = 75;
       },
       "conditions[0].clear_threshold"},
      {"bounds on a threshold condition", [](json::object& b) { condition(b, 0)["low"] = 1; },
       "conditions[0].low"},
      {"between with low above high",
       [](json::object& b) {
         b["conditions"] = json::parse(R"([{"kind":"between","parameter":"t","low":5,"high":1}])");
       },
       "conditions[0].high"},
      {"outside without high",
       [](json::object& b) {
         b["conditions"] = json::parse(R"([{"kind":"outside","parameter":"t","low":5}])");
       },
       "conditions[0].high"},
      {"window without function",
       [](json::object& b) {
         b["conditions"] =
             json::parse(R"([{"kind":"window","parameter":"p","minutes":15,"op":">","threshold":1}])");
       },
       "conditions[0].function"},
      {"window longer than a day",
       [](json::object& b) {
         b["conditions"] = json::parse(
             R"([{"kind":"window","parameter":"p","function":"sum","minutes":1441,"op":">","threshold":1}])");
       },
       "conditions[0].minutes"},
      {"window of zero minutes",
       [](json::object& b) {
         b["conditions"] = json::parse(
             R"([{"kind":"window","parameter":"p","function":"avg","minutes":0,"op":">","threshold":1}])");
       },
       "conditions[0].minutes"},
      {"unknown window function",
       [](json::object& b) {
         b["conditions"] = json::parse(
             R"([{"kind":"window","parameter":"p","function":"median","minutes":5,"op":">","threshold":1}])");
       },
       "conditions[0].function"},
      {"fractional minutes",
       [](json::object& b) { b["conditions"] = json::parse(R"([{"kind":"no_data","minutes":1.5}])"); },
       "conditions[0].minutes"},
      {"no_data without minutes",
       [](json::object& b) { b["conditions"] = json::parse(R"([{"kind":"no_data","parameter":"p"}])"); },
       "conditions[0].minutes"},
      {"minutes on a threshold condition", [](json::object& b) { condition(b, 0)["minutes"] = 5; },
       "conditions[0].minutes"},
      {"unknown condition field", [](json::object& b) { condition(b, 0)["unit"] = "kW"; },
       "conditions[0].unit"},
      {"negative duration", [](json::object& b) { b["duration_seconds"] = -1; }, "duration_seconds"},
      {"duration over a day", [](json::object& b) { b["duration_seconds"] = 86401; }, "duration_seconds"},
      {"clear_after not a number", [](json::object& b) { b["clear_after_seconds"] = "60"; },
       "clear_after_seconds"},
      {"cooldown over a week", [](json::object& b) { b["cooldown_seconds"] = 7 * 86400 + 1; },
       "cooldown_seconds"},
      {"repeat too often", [](json::object& b) { b["repeat_seconds"] = 30; }, "repeat_seconds"},
      {"scope without kind", [](json::object& b) { b["scope"] = json::object{}; }, "scope.kind"},
      {"unknown scope kind", [](json::object& b) { b["scope"] = json::parse(R"({"kind":"site"})"); },
       "scope.kind"},
      {"devices scope empty",
       [](json::object& b) { b["scope"] = json::parse(R"({"kind":"devices","device_ids":[]})"); },
       "scope.device_ids"},
      {"devices scope with a bad id",
       [](json::object& b) {
         b["scope"] = json::parse(R"({"kind":"devices","device_ids":["ok-1","Bad Id"]})");
       },
       "scope.device_ids[1]"},
      {"type scope without type", [](json::object& b) { b["scope"] = json::parse(R"({"kind":"type"})"); },
       "scope.device_type"},
      {"line on a type scope",
       [](json::object& b) { b["scope"] = json::parse(R"({"kind":"type","device_type":"x","line":"a"})"); },
       "scope.line"},
      {"unknown day",
       [](json::object& b) {
         b["schedule"].as_object()["days"] = json::array{"mon", "funday"};
       },
       "schedule.days[1]"},
      {"day twice",
       [](json::object& b) {
         b["schedule"].as_object()["days"] = json::array{"mon", "mon"};
       },
       "schedule.days[1]"},
      {"no days", [](json::object& b) { b["schedule"].as_object()["days"] = json::array{}; },
       "schedule.days"},
      {"bad start", [](json::object& b) { b["schedule"].as_object()["start"] = "6:00"; }, "schedule.start"},
      {"hour 25", [](json::object& b) { b["schedule"].as_object()["end"] = "25:00"; }, "schedule.end"},
      {"end equals start", [](json::object& b) { b["schedule"].as_object()["end"] = "06:00"; },
       "schedule.end"},
      {"unknown zone", [](json::object& b) { b["schedule"].as_object()["timezone"] = "Mars/Olympus"; },
       "schedule.timezone"},
      {"bad email",
       [](json::object& b) {
         b["channels"].as_object()["email"] = json::array{"ok@x.io", "nope"};
       },
       "channels.email[1]"},
      {"email twice",
       [](json::object& b) {
         b["channels"].as_object()["email"] = json::array{"a@x.io", "A@x.io"};
       },
       "channels.email[1]"},
      {"national number",
       [](json::object& b) { b["channels"].as_object()["whatsapp"] = json::array{"015112345678"}; },
       "channels.whatsapp[0]"},
      {"whatsapp with spaces",
       [](json::object& b) { b["channels"].as_object()["whatsapp"] = json::array{"+49 151 12345678"}; },
       "channels.whatsapp[0]"},
      {"in_app not bool", [](json::object& b) { b["channels"].as_object()["in_app"] = 1; },
       "channels.in_app"},
      {"unknown channel", [](json::object& b) { b["channels"].as_object()["sms"] = json::array{}; },
       "channels.sms"},
  };
  for (const auto& bad : cases) {
    json::object body = base();
    bad.edit(body);
    try {
      rule_from_json(body, "Europe/Berlin");
      ADD_FAILURE() << bad.what << ": accepted";
    } catch (const core::Invalid& e) {
      EXPECT_EQ(e.field(), bad.field) << bad.what << ": " << e.what();
    }
  }
}

TEST(RuleJson, UnknownFactoryZoneIsRefusedOnlyWhenAScheduleNeedsIt) {
  json::object body = base();
  EXPECT_THROW(rule_from_json(body, "Nowhere/City"), core::Invalid);
  body["schedule"].as_object()["timezone"] = "Asia/Kolkata";
  EXPECT_EQ(rule_from_json(body, "Nowhere/City").schedule->timezone, "Asia/Kolkata");
  body["schedule"] = nullptr;
  EXPECT_NO_THROW(rule_from_json(body, "Nowhere/City"));
}

TEST(RuleJson, PatchReplacesOnlyTheFieldsGiven) {
  Rule current = parse_rule(kCompressorRule, "Europe/Berlin");
  current.id = 12;
  Rule patched = apply_rule_patch(current, json::parse(R"({"severity":"major","schedule":null})"), "UTC");
  EXPECT_EQ(patched.id, 12);
  EXPECT_EQ(patched.severity, Severity::major);
  EXPECT_FALSE(patched.schedule.has_value());
  EXPECT_EQ(patched.conditions, current.conditions);
  EXPECT_EQ(patched.channels, current.channels);
  try {
    apply_rule_patch(current, json::parse(R"({"conditions":[{"kind":"rate","parameter":"p","op":">"}]})"),
                     "UTC");
    FAIL() << "accepted";
  } catch (const core::Invalid& e) {
    EXPECT_EQ(e.field(), "conditions[0].threshold");
  }
}

TEST(RuleJson, NotJsonIsInvalidBody) {
  try {
    parse_rule("{name:", "UTC");
    FAIL() << "accepted";
  } catch (const core::Invalid& e) {
    EXPECT_EQ(e.field(), "body");
  }
}

}  // namespace
}  // namespace factoryops::rules
