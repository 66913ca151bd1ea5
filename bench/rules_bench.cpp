// Rule evaluation on one core: 1,000 rules over 1,000 machines (issue target: at least 2 M
// condition evaluations per second). Machines come in 10 types of 100; each type has 100 rules
// scoped to it, mixing thresholds, bounds, 15- and 60-minute windows and rates over the type's
// 20 parameters. Each iteration is one reading of all 20 parameters of the next machine, a
// second apart per round, so every window slides as in production. Reference: the same readings
// and as many rules, but on parameters the machines do not send (the cost of reaching the rules).
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "rules/rule_evaluator.hpp"

namespace {
namespace fo = factoryops;
using fo::rules::Comparison;
using fo::rules::Condition;
using fo::rules::ConditionKind;
using fo::rules::Rule;

constexpr int kMachines = 1000;
constexpr int kTypes = 10;
constexpr int kRulesPerType = 100;
constexpr int kParameters = 20;
constexpr std::int64_t kStartMs = 1'772'445'600'000;  // 2026-03-02 10:00 UTC

std::string parameter(int p, bool sent = true) {
  return (sent ? "metric_" : "other_") + std::to_string(p);
}

// Values move around 100 ± 30 so thresholds near 125 are crossed now and then.
double value_of(int machine, int p, std::int64_t round) {
  return 100 + 30 * std::sin(0.01 * static_cast<double>(round) + machine * 0.7 + p * 1.3);
}

Condition condition_for(int rule, int c, bool sent) {
  Condition condition;
  condition.parameter = parameter((rule * 3 + c * 7) % kParameters, sent);
  switch ((rule + c) % 7) {
    case 0:
    case 1:
    case 2:
      condition.kind = ConditionKind::threshold;
      condition.op = (rule % 2 == 0) ? Comparison::gt : Comparison::le;
      condition.threshold = (rule % 2 == 0) ? 125 : 72;
      break;
    case 3:
      condition.kind = ConditionKind::outside;
      condition.low = 72;
      condition.high = 128;
      break;
    case 4:
    case 5:
      condition.kind = ConditionKind::window;
      condition.function = rule % 3 == 0 ? fo::rules::WindowFunction::max : fo::rules::WindowFunction::avg;
      condition.minutes = rule % 2 == 0 ? 15 : 60;
      condition.op = Comparison::gt;
      condition.threshold = 120;
      break;
    default:
      condition.kind = ConditionKind::rate;
      condition.op = Comparison::gt;
      condition.threshold = 25;
      break;
  }
  return condition;
}

std::vector<Rule> make_rules(bool sent) {
  std::vector<Rule> rules;
  for (int type = 0; type < kTypes; ++type) {
    for (int r = 0; r < kRulesPerType; ++r) {
      Rule rule;
      rule.id = static_cast<std::int64_t>(rules.size()) + 1;
      rule.name = "rule " + std::to_string(rule.id);
      rule.severity = static_cast<fo::rules::Severity>(r % 5);
      rule.scope.kind = fo::rules::ScopeKind::device_type;
      rule.scope.device_type = "type-" + std::to_string(type);
      rule.logic = r % 4 == 0 ? fo::rules::Logic::any_of : fo::rules::Logic::all_of;
      const int conditions = 1 + r % 2;
      for (int c = 0; c < conditions; ++c)
        rule.conditions.push_back(condition_for(type * kRulesPerType + r, c, sent));
      rule.duration_seconds = (r % 3) * 30;
      rules.push_back(std::move(rule));
    }
  }
  return rules;
}

std::vector<fo::rules::DeviceProfile> make_devices() {
  std::vector<fo::rules::DeviceProfile> devices;
  for (int m = 0; m < kMachines; ++m) {
    devices.push_back({"machine-" + std::to_string(m), "type-" + std::to_string(m % kTypes), "line-1"});
  }
  return devices;
}

void run(benchmark::State& state, bool rules_match) {
  fo::rules::RuleEvaluator evaluator(fo::core::FactoryId("bench"));
  const auto devices = make_devices();
  evaluator.set_rules(make_rules(rules_match));
  evaluator.set_devices(devices);
  std::vector<std::vector<fo::tsdb::Field>> fields(kMachines);
  for (int m = 0; m < kMachines; ++m) {
    for (int p = 0; p < kParameters; ++p) fields[m].push_back({parameter(p), 0});
  }
  std::vector<fo::rules::Event> events;
  events.reserve(1024);
  std::int64_t round = 0;
  int machine = 0;
  std::uint64_t transitions = 0;
  auto next = [&]() {
    auto& reading = fields[machine];
    for (int p = 0; p < kParameters; ++p) reading[p].value = value_of(machine, p, round);
    evaluator.evaluate(devices[machine].device_id, kStartMs + round * 1000, reading, events);
    transitions += events.size();
    events.clear();
    if (++machine == kMachines) {
      machine = 0;
      ++round;
    }
  };
  for (int i = 0; i < 2 * kMachines; ++i) next();  // windows and rate baselines warm
  const auto before = evaluator.stats();
  const std::uint64_t transitions_before = transitions;
  for (auto _ : state) next();
  const auto after = evaluator.stats();
  state.counters["condition_evals_per_s"] =
      benchmark::Counter(static_cast<double>(after.condition_evaluations - before.condition_evaluations),
                         benchmark::Counter::kIsRate);
  state.counters["readings_per_s"] =
      benchmark::Counter(static_cast<double>(after.readings - before.readings), benchmark::Counter::kIsRate);
  state.counters["conditions_per_reading"] =
      static_cast<double>(after.condition_evaluations - before.condition_evaluations) /
      static_cast<double>(std::max<std::uint64_t>(1, after.readings - before.readings));
  state.counters["transitions"] = static_cast<double>(transitions - transitions_before);
}

void BM_RuleEvaluation_1000RulesOver1000Machines(benchmark::State& state) {
  run(state, true);
}

void BM_RuleEvaluation_UnwatchedParametersReference(benchmark::State& state) {
  run(state, false);
}

}  // namespace

BENCHMARK(BM_RuleEvaluation_1000RulesOver1000Machines);
BENCHMARK(BM_RuleEvaluation_UnwatchedParametersReference);
