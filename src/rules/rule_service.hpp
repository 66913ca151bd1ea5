// The rules of a factory on behalf of a signed-in caller: create, list, read, change
// (PATCH), delete, and "test against the last 24 hours" of a saved rule or an unsaved draft.
// Every function takes the caller's FactoryContext first and sees only that factory's rules;
// another factory's rule is "not found". Writes and their audit entries commit in one
// transaction. Thread-safe; the Database, the store and the AlertService must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "auth/context.hpp"
#include "db/database.hpp"
#include "rules/backtest.hpp"
#include "rules/rule_repository.hpp"
#include "tsdb/store.hpp"

namespace boost::json {
class value;
}  // namespace boost::json

namespace factoryops::alerts {
class AlertService;
}  // namespace factoryops::alerts

namespace factoryops::rules {

constexpr std::int64_t kDefaultRulePageSize = 50;
constexpr std::int64_t kMaxRulePageSize = 500;

// What a test replays: the last 24 hours, at most kMaxTestMachines machines of the rule's scope
// and kMaxTestPointsPerSeries raw points per parameter (the oldest ones), kMaxTestPoints in all.
// A machine-wide no-data condition reads every parameter of a machine, at most
// kMaxTestParametersPerMachine of them. Past any bound the answer says `truncated`.
constexpr std::int64_t kTestWindowMs = 24 * 3'600'000LL;
constexpr std::size_t kMaxTestMachines = 100;
constexpr std::size_t kMaxTestPointsPerSeries = 20'000;
constexpr std::size_t kMaxTestPoints = 1'000'000;
constexpr std::size_t kMaxTestParametersPerMachine = 50;

struct TestReport {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  BacktestResult result{};
  std::size_t machines = 0;  // machines of the scope whose data was replayed
  bool truncated = false;    // a bound above cut machines or points
};

class RuleService {
 public:
  // Called after a change is committed: the rule as it is now (`removed`: as it was).
  using Listener = std::function<void(const core::FactoryId&, const Rule&, bool removed)>;

  // `alerts` (may be null) resolves the unresolved alerts of a deleted or disabled rule.
  // `now_ms` is the clock of tests; the system clock when empty.
  RuleService(db::Database& db, tsdb::TelemetryStore& store, alerts::AlertService* alerts,
              std::function<std::int64_t()> now_ms = {});

  // Set before the service is shared between threads; must not throw.
  void set_listener(Listener listener) { listener_ = std::move(listener); }

  // core::Invalid naming "limit" or "offset" when out of range.
  RulePage list(const auth::FactoryContext& context, std::int64_t limit, std::int64_t offset);
  // core::NotFound unless the rule belongs to the caller's factory.
  StoredRule get(const auth::FactoryContext& context, std::int64_t id);

  // `body` is the rule JSON of docs/rules.md; server fields (id, version, created_at,
  // updated_at) in it are ignored. core::Invalid naming the field; core::Conflict for a name
  // the factory already uses.
  StoredRule create(const auth::FactoryContext& context, const boost::json::value& body);
  // The fields present replace the rule's (see apply_rule_patch); version +1.
  StoredRule update(const auth::FactoryContext& context, std::int64_t id, const boost::json::value& patch);
  // Deletes the rule; its unresolved alerts are resolved.
  void remove(const auth::FactoryContext& context, std::int64_t id);

  // Replays the last 24 hours of stored readings through the saved rule, or through a draft
  // (validated like a create: core::Invalid naming the field).
  TestReport test_saved(const auth::FactoryContext& context, std::int64_t id);
  TestReport test_draft(const auth::FactoryContext& context, const boost::json::value& body);

  RuleRepository& repository() { return rules_; }

 private:
  std::string timezone_of(const core::FactoryId& factory);
  TestReport replay(const core::FactoryId& factory, const Rule& rule);
  void resolve_alerts(const core::FactoryId& factory, std::int64_t rule_id, std::string_view why);
  void notify(const core::FactoryId& factory, const Rule& rule, bool removed) const;
  std::int64_t now() const;

  db::Database& db_;
  tsdb::TelemetryStore& store_;
  alerts::AlertService* alerts_;
  std::function<std::int64_t()> now_ms_;
  RuleRepository rules_;
  Listener listener_;
};

}  // namespace factoryops::rules
