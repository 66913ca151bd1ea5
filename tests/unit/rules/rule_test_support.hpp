// Helpers shared by the rule tests: rules from JSON text, UTC instants, one-reading feeds.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "rules/rule.hpp"
#include "rules/rule_evaluator.hpp"

namespace factoryops::rules::testing {

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;

// Epoch milliseconds of a UTC wall-clock time.
inline std::int64_t utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  using namespace std::chrono;
  const sys_days day = year_month_day{year{y}, month{m}, std::chrono::day{d}};
  return (day.time_since_epoch().count() * 86400LL + hh * 3600LL + mm * 60LL + ss) * 1000LL;
}

// 2026-03-02 10:00:00 UTC, a Monday.
inline const std::int64_t kT0 = utc(2026, 3, 2, 10);

inline Rule rule_from(std::int64_t id, const std::string& json_text, const std::string& zone = "UTC") {
  Rule rule = parse_rule(json_text, zone);
  rule.id = id;
  return rule;
}

class Feeder {
 public:
  Feeder() : evaluator_(core::FactoryId("acme")) {}
  explicit Feeder(std::vector<Rule> rules) : evaluator_(core::FactoryId("acme")) {
    evaluator_.set_rules(std::move(rules));
  }

  RuleEvaluator& evaluator() { return evaluator_; }

  std::vector<Event> feed(const std::string& device, std::int64_t ts,
                          std::initializer_list<std::pair<const char*, double>> values) {
    std::vector<tsdb::Field> fields;
    for (const auto& [key, value] : values) fields.push_back(tsdb::Field{key, value});
    std::vector<Event> out;
    evaluator_.evaluate(device, ts, fields, out);
    return out;
  }

  std::vector<Event> tick(std::int64_t now) {
    std::vector<Event> out;
    evaluator_.tick(now, out);
    return out;
  }

 private:
  RuleEvaluator evaluator_;
};

}  // namespace factoryops::rules::testing
