#include "rules/rule_service.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <utility>

#include "alerts/alert_service.hpp"
#include "core/errors.hpp"
#include "core/logging.hpp"
#include "db/audit_repository.hpp"
#include "db/clock.hpp"
#include "db/factory_repository.hpp"
#include "devices/device_repository.hpp"

namespace factoryops::rules {
namespace json = boost::json;
namespace {

// The fields the server adds to a rule. A client that sends back what it read (the edit form)
// must not be refused for them, so they are dropped rather than reported as unknown.
constexpr std::string_view kServerFields[] = {"id", "version", "created_at", "updated_at"};

json::value without_server_fields(const json::value& body) {
  if (!body.is_object()) return body;
  json::object copy = body.as_object();
  for (auto field : kServerFields) copy.erase(field);
  return copy;
}

core::NotFound rule_not_found(std::int64_t id) {
  return core::NotFound("rule " + std::to_string(id) + " not found");
}

core::Conflict name_taken(const std::string& name) {
  return core::Conflict("a rule named '" + name + "' already exists in this factory");
}

void audit(db::Connection& conn, const auth::FactoryContext& context, std::string action, std::int64_t id,
           const json::object& details) {
  db::AuditEntry entry;
  if (context.user_id > 0) entry.user_id = context.user_id;
  entry.action = std::move(action);
  entry.resource_type = "rule";
  entry.resource_id = std::to_string(id);
  entry.details_json = json::serialize(details);
  if (!context.request_id.empty()) entry.request_id = context.request_id;
  if (!context.ip.empty()) entry.ip = context.ip;
  db::AuditRepository::record(conn, context.factory_id, entry);
}

bool reads_whole_machine(const Rule& rule) {
  return std::any_of(rule.conditions.begin(), rule.conditions.end(), [](const Condition& c) {
    return c.kind == ConditionKind::no_data && c.parameter.empty();
  });
}

DeviceProfile profile_of(const devices::Device& device) {
  return DeviceProfile{device.device_id.str(), device.type.value_or(""), device.line.value_or("")};
}

}  // namespace

RuleService::RuleService(db::Database& db, tsdb::TelemetryStore& store, alerts::AlertService* alerts,
                         std::function<std::int64_t()> now_ms)
    : db_(db), store_(store), alerts_(alerts), now_ms_(std::move(now_ms)), rules_(db) {}

RulePage RuleService::list(const auth::FactoryContext& context, std::int64_t limit, std::int64_t offset) {
  context.require(auth::Action::view_dashboard);
  if (limit < 1 || limit > kMaxRulePageSize) {
    throw core::Invalid("limit", "must be between 1 and " + std::to_string(kMaxRulePageSize));
  }
  if (offset < 0) throw core::Invalid("offset", "must be 0 or more");
  return rules_.list(context.factory_id, limit, offset);
}

StoredRule RuleService::get(const auth::FactoryContext& context, std::int64_t id) {
  context.require(auth::Action::view_dashboard);
  auto stored = rules_.find(context.factory_id, id);
  if (!stored) throw rule_not_found(id);
  return *stored;
}

StoredRule RuleService::create(const auth::FactoryContext& context, const json::value& body) {
  context.require(auth::Action::manage_rules);
  StoredRule stored{context.factory_id};
  stored.rule = rule_from_json(without_server_fields(body), timezone_of(context.factory_id));
  if (context.user_id > 0) stored.created_by = context.user_id;
  stored.created_at_ms = stored.updated_at_ms = now();

  {
    // Released before the listener runs: it may read the database itself.
    auto conn = db_.acquire();
    db::Transaction tx(*conn);
    try {
      stored.rule.id = RuleRepository::insert(context.factory_id, *conn, stored);
    } catch (const core::Conflict&) {
      throw name_taken(stored.rule.name);
    }
    audit(*conn, context, "rule.created", stored.rule.id,
          {{"name", stored.rule.name}, {"severity", severity_name(stored.rule.severity)}});
    tx.commit();
  }
  notify(context.factory_id, stored.rule, false);
  return stored;
}

StoredRule RuleService::update(const auth::FactoryContext& context, std::int64_t id,
                               const json::value& patch) {
  context.require(auth::Action::manage_rules);
  const std::string timezone = timezone_of(context.factory_id);
  json::value changes = without_server_fields(patch);

  std::optional<StoredRule> current;
  std::optional<StoredRule> stored;
  {
    // Released before the alerts are resolved and the listener runs: both borrow a connection.
    auto conn = db_.acquire();
    db::Transaction tx(*conn);
    current = RuleRepository::find(context.factory_id, *conn, id);
    if (!current) throw rule_not_found(id);
    Rule changed = apply_rule_patch(current->rule, changes, timezone);
    if (changed == current->rule) return *current;  // nothing changed: no new version, no audit entry

    try {
      if (!RuleRepository::update(context.factory_id, *conn, changed, now())) throw rule_not_found(id);
    } catch (const core::Conflict&) {
      throw name_taken(changed.name);
    }
    json::array fields;
    for (const auto& [key, value] : changes.as_object()) fields.emplace_back(key);
    audit(*conn, context, "rule.updated", id, {{"name", changed.name}, {"fields", std::move(fields)}});
    stored = RuleRepository::find(context.factory_id, *conn, id);
    tx.commit();
  }
  if (current->rule.enabled && !stored->rule.enabled) resolve_alerts(context.factory_id, id, "rule disabled");
  notify(context.factory_id, stored->rule, false);
  return *stored;
}

void RuleService::remove(const auth::FactoryContext& context, std::int64_t id) {
  context.require(auth::Action::manage_rules);
  std::optional<StoredRule> current;
  {
    auto conn = db_.acquire();
    db::Transaction tx(*conn);
    current = RuleRepository::find(context.factory_id, *conn, id);
    if (!current || !RuleRepository::remove(context.factory_id, *conn, id)) throw rule_not_found(id);
    audit(*conn, context, "rule.deleted", id, {{"name", current->rule.name}});
    tx.commit();
  }
  resolve_alerts(context.factory_id, id, "rule deleted");
  notify(context.factory_id, current->rule, true);
}

TestReport RuleService::test_saved(const auth::FactoryContext& context, std::int64_t id) {
  context.require(auth::Action::manage_rules);
  auto stored = rules_.find(context.factory_id, id);
  if (!stored) throw rule_not_found(id);
  return replay(context.factory_id, stored->rule);
}

TestReport RuleService::test_draft(const auth::FactoryContext& context, const json::value& body) {
  context.require(auth::Action::manage_rules);
  Rule draft = rule_from_json(without_server_fields(body), timezone_of(context.factory_id));
  return replay(context.factory_id, draft);
}

TestReport RuleService::replay(const core::FactoryId& factory, const Rule& rule) {
  TestReport report;
  report.to_ms = now();
  report.from_ms = report.to_ms - kTestWindowMs;

  // The machines of the scope, one more than the bound so that a cut is noticed.
  devices::DeviceRepository devices(db_);
  std::vector<devices::Device> machines;
  if (rule.scope.kind == ScopeKind::devices) {
    for (const auto& id : rule.scope.device_ids) {
      if (machines.size() > kMaxTestMachines) break;
      if (!core::is_valid_slug(id)) continue;
      if (auto device = devices.find(factory, core::DeviceId(id))) machines.push_back(std::move(*device));
    }
  } else {
    devices::DeviceFilter filter;
    filter.limit = static_cast<std::int64_t>(kMaxTestMachines) + 1;
    if (rule.scope.kind == ScopeKind::device_type) filter.type = rule.scope.device_type;
    if (rule.scope.kind == ScopeKind::line) filter.line = rule.scope.line;
    machines = devices.list(factory, filter).items;
  }
  if (machines.size() > kMaxTestMachines) {
    machines.erase(machines.begin() + static_cast<std::ptrdiff_t>(kMaxTestMachines), machines.end());
    report.truncated = true;
  }

  const std::vector<std::string> parameters = referenced_parameters(rule);
  const bool whole_machine = reads_whole_machine(rule);
  std::vector<BacktestDevice> replayed;
  std::size_t points = 0;
  for (const auto& machine : machines) {
    tsdb::RawQuery query{factory,        machine.device_id, parameters,
                         report.from_ms, report.to_ms,      kMaxTestPointsPerSeries + 1};
    if (whole_machine) {
      auto known = devices.list_parameters(factory, machine.device_id);
      if (known.size() > kMaxTestParametersPerMachine) {
        known.resize(kMaxTestParametersPerMachine);
        report.truncated = true;
      }
      for (const auto& parameter : known) query.metrics.push_back(parameter.parameter_key);
      std::sort(query.metrics.begin(), query.metrics.end());
      query.metrics.erase(std::unique(query.metrics.begin(), query.metrics.end()), query.metrics.end());
    }
    BacktestDevice device{profile_of(machine), {}};
    if (!query.metrics.empty()) device.series = store_.read_raw(query);
    std::size_t machine_points = 0;
    for (auto& series : device.series) {
      if (series.points.size() > kMaxTestPointsPerSeries) {
        series.points.resize(kMaxTestPointsPerSeries);
        report.truncated = true;
      }
      machine_points += series.points.size();
    }
    if (points + machine_points > kMaxTestPoints) {
      report.truncated = true;
      break;
    }
    points += machine_points;
    replayed.push_back(std::move(device));
  }
  report.machines = replayed.size();
  report.result = backtest(factory, rule, replayed, report.from_ms, report.to_ms);
  return report;
}

std::string RuleService::timezone_of(const core::FactoryId& factory) {
  auto found = db::FactoryRepository(db_).find(factory);
  return found ? found->timezone : std::string("UTC");
}

void RuleService::resolve_alerts(const core::FactoryId& factory, std::int64_t rule_id, std::string_view why) {
  if (alerts_ == nullptr) return;
  try {
    alerts_->resolve_rule(factory, rule_id, why, now());
  } catch (const std::exception& e) {
    // The rule change is committed and stands; the alerts stay open until resolved by hand.
    log::error("alerts of a deleted or disabled rule were not resolved",
               {{"rule_id", rule_id}, {"error", std::string_view(e.what())}});
  }
}

void RuleService::notify(const core::FactoryId& factory, const Rule& rule, bool removed) const {
  if (listener_) listener_(factory, rule, removed);
}

std::int64_t RuleService::now() const {
  return now_ms_ ? now_ms_() : db::now_ms();
}

}  // namespace factoryops::rules
