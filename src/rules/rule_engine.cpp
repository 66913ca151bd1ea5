#include "rules/rule_engine.hpp"

#include <boost/json.hpp>

#include <cstdio>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "db/clock.hpp"
#include "http/request_id.hpp"
#include "rules/rule_dispatch.hpp"

namespace factoryops::rules {
namespace json = boost::json;
namespace {

core::metrics::Counter& evaluations_counter() {
  static auto& counter =
      core::metrics::Registry::global()
          .counter("rule_evaluations_total", "(rule, machine) decisions taken by the rule engine")
          .labels({});
  return counter;
}

std::string number_text(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
}

// The deciding condition in words, for the alert's message: "power_kw > 75".
std::string describe(const Rule& rule, std::size_t index) {
  if (index >= rule.conditions.size()) return rule.name;
  const Condition& c = rule.conditions[index];
  const std::string what = c.parameter.empty() ? std::string("data") : c.parameter;
  switch (c.kind) {
    case ConditionKind::threshold:
      return what + " " + std::string(comparison_symbol(c.op)) + " " + number_text(c.threshold);
    case ConditionKind::between:
      return what + " between " + number_text(c.low) + " and " + number_text(c.high);
    case ConditionKind::outside:
      return what + " outside " + number_text(c.low) + " to " + number_text(c.high);
    case ConditionKind::window:
      return std::to_string(c.minutes) + "-minute " + std::string(window_function_name(c.function)) + " of " +
             what + " " + std::string(comparison_symbol(c.op)) + " " + number_text(c.threshold);
    case ConditionKind::rate:
      return "change of " + what + " per minute " + std::string(comparison_symbol(c.op)) + " " +
             number_text(c.threshold);
    case ConditionKind::no_data: return "no " + what + " for " + std::to_string(c.minutes) + " min";
  }
  return rule.name;
}

}  // namespace

struct RuleEngine::Factory {
  explicit Factory(const core::FactoryId& factory_id) : id(factory_id), evaluator(factory_id) {}
  core::FactoryId id;
  RuleEvaluator evaluator;
  std::string timezone = "UTC";
  std::map<std::int64_t, Rule> rules;             // enabled rules, by id
  std::map<std::int64_t, std::int64_t> versions;  // every rule's version, enabled or not
  std::string signature;                          // of rules and machines, when last loaded
  std::chrono::steady_clock::time_point checked{};
  std::set<std::string> dirty;  // machines whose state changed since the last save
  std::uint64_t counted_evaluations = 0;
};

RuleEngine::RuleEngine(db::Database& database, alerts::AlertService& alerts, queue::JobQueue& jobs)
    : RuleEngine(database, alerts, jobs, Options{}) {}

RuleEngine::RuleEngine(db::Database& database, alerts::AlertService& alerts, queue::JobQueue& jobs,
                       Options options)
    : database_(database),
      alerts_(alerts),
      jobs_(jobs),
      options_(options),
      last_save_(std::chrono::steady_clock::now()) {}

RuleEngine::~RuleEngine() {
  try {
    save_states();
  } catch (const std::exception& e) {
    log::warn("rule states not saved at shutdown", {{"error", std::string_view(e.what())}});
  }
}

RuleEngine::Factory& RuleEngine::factory_locked(const core::FactoryId& id) {
  auto it = factories_.find(id.str());
  if (it != factories_.end()) {
    refresh_locked(*it->second, false);
    return *it->second;
  }
  auto factory = std::make_unique<Factory>(id);
  refresh_locked(*factory, true);
  // Carry on from the saved states: durations under way, windows, open episodes.
  auto conn = database_.acquire();
  for (const auto& row :
       conn->query("SELECT device_id, state FROM rule_states WHERE factory_id = ?", {id.str()})) {
    try {
      factory->evaluator.restore_device_state(row.get_string(1));
    } catch (const std::exception& e) {
      log::warn("rule state not restored; the machine starts afresh",
                {{"factory_id", id.str()},
                 {"device_id", row.get_string(0)},
                 {"error", std::string_view(e.what())}});
    }
  }
  return *factories_.emplace(id.str(), std::move(factory)).first->second;
}

void RuleEngine::refresh_locked(Factory& factory, bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - factory.checked < options_.reload_check) return;
  factory.checked = now;
  auto conn = database_.acquire();
  const std::string id = factory.id.str();
  // Any edit bumps updated_at and version; a delete changes the count, a create the largest id.
  // (MAX keeps the column's integer type on MySQL, where SUM would be a DECIMAL.)
  auto rules_sig = conn->query_one(
      "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(MAX(updated_at), 0), COALESCE(MAX(version), 0) "
      "FROM rules WHERE factory_id = ?",
      {id});
  auto devices_sig = conn->query_one(
      "SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM devices WHERE factory_id = ?", {id});
  auto zone = conn->query_one("SELECT timezone FROM factories WHERE id = ?", {id});
  std::string signature =
      std::to_string(rules_sig->get_int(0)) + "/" + std::to_string(rules_sig->get_int(1)) + "/" +
      std::to_string(rules_sig->get_int(2)) + "/" + std::to_string(rules_sig->get_int(3)) + "/" +
      std::to_string(devices_sig->get_int(0)) + "/" + std::to_string(devices_sig->get_int(1)) + "/" +
      (zone ? zone->get_string(0) : "");
  if (signature == factory.signature) return;
  factory.signature = signature;
  factory.timezone = zone ? zone->get_string(0) : "UTC";

  std::vector<DeviceProfile> devices;
  for (const auto& row : conn->query("SELECT device_id, type, line FROM devices WHERE factory_id = ?", {id}))
    devices.push_back(DeviceProfile{row.get_string(0), row.get_optional_string(1).value_or(""),
                                    row.get_optional_string(2).value_or("")});
  factory.evaluator.set_devices(std::move(devices));

  // Only rules that changed are handed over again, so the others keep their state.
  std::map<std::int64_t, std::int64_t> versions;
  for (const auto& row :
       conn->query("SELECT id, version, is_enabled, definition FROM rules WHERE factory_id = ?", {id})) {
    const std::int64_t rule_id = row.get_int(0);
    const std::int64_t version = row.get_int(1);
    const bool enabled = row.get_bool(2);
    versions[rule_id] = version;
    auto known = factory.versions.find(rule_id);
    const bool same = known != factory.versions.end() && known->second == version &&
                      factory.rules.contains(rule_id) == enabled;
    if (same) continue;
    if (!enabled) {
      factory.evaluator.remove_rule(rule_id);
      factory.rules.erase(rule_id);
      continue;
    }
    try {
      Rule rule = parse_rule(row.get_string(3), factory.timezone);
      rule.id = rule_id;
      rule.enabled = true;
      factory.evaluator.upsert_rule(rule);
      factory.rules[rule_id] = std::move(rule);
    } catch (const std::exception& e) {
      log::error("a stored rule does not parse; it is not evaluated",
                 {{"factory_id", id}, {"rule_id", rule_id}, {"error", std::string_view(e.what())}});
      factory.evaluator.remove_rule(rule_id);
      factory.rules.erase(rule_id);
    }
  }
  for (auto it = factory.rules.begin(); it != factory.rules.end();) {
    if (versions.contains(it->first)) {
      ++it;
      continue;
    }
    factory.evaluator.remove_rule(it->first);
    it = factory.rules.erase(it);
  }
  factory.versions = std::move(versions);
}

void RuleEngine::evaluate_job(const queue::Job& job) {
  const core::FactoryId factory_id(job.factory_id);
  auto batches = decode_batches(factory_id, job.payload);
  std::lock_guard lock(mutex_);
  Factory& factory = factory_locked(factory_id);
  std::vector<Event> events;
  for (const auto& batch : batches) {
    factory.evaluator.evaluate(batch, events);
    factory.dirty.insert(batch.device.str());
  }
  auto stats = factory.evaluator.stats();
  evaluations_counter().inc(static_cast<double>(stats.rule_evaluations - factory.counted_evaluations));
  factory.counted_evaluations = stats.rule_evaluations;
  handle_events_locked(factory, events);
  if (std::chrono::steady_clock::now() - last_save_ >= options_.save_every) save_states_locked();
}

void RuleEngine::forget_resolved_locked(Factory& factory) {
  for (const auto& open : factory.evaluator.open_states()) {
    if (!alerts_.find_unresolved(factory.id, open.rule_id, open.device_id)) {
      factory.evaluator.mark_resolved(open.rule_id, open.device_id);
      factory.dirty.insert(open.device_id);
    }
  }
}

void RuleEngine::tick_job(const queue::Job& job, std::int64_t now_ms) {
  const core::FactoryId factory_id(job.factory_id);
  boost::system::error_code ec;
  json::value doc = json::parse(job.payload, ec);
  const auto* scheduled = !ec && doc.is_object() ? doc.as_object().if_contains("scheduled_at") : nullptr;
  if (!scheduled || !scheduled->is_int64()) throw core::Invalid("payload.scheduled_at", "must be an integer");
  if (now_ms - scheduled->as_int64() > 60'000) {
    log::info("stale rule tick skipped", {{"scheduled_at", scheduled->as_int64()}});
    return;
  }
  std::lock_guard lock(mutex_);
  // Loaded here if need be, so no-data rules run for a factory that has sent nothing since the
  // engine started (its machines' states come back from rule_states).
  Factory& factory = factory_locked(factory_id);
  forget_resolved_locked(factory);
  std::vector<Event> events;
  factory.evaluator.tick(now_ms, events);
  for (const auto& e : events) factory.dirty.insert(e.device_id);
  handle_events_locked(factory, events);
}

void RuleEngine::housekeep() {
  std::lock_guard lock(mutex_);
  for (auto& [id, factory] : factories_) {
    refresh_locked(*factory, false);
    forget_resolved_locked(*factory);
  }
  save_states_locked();
}

void RuleEngine::save_states() {
  std::lock_guard lock(mutex_);
  save_states_locked();
}

void RuleEngine::save_states_locked() {
  last_save_ = std::chrono::steady_clock::now();
  bool any = false;
  for (auto& [id, factory] : factories_) any = any || !factory->dirty.empty();
  if (!any) return;
  auto conn = database_.acquire();
  const std::int64_t now = db::now_ms();
  for (auto& [id, factory] : factories_) {
    if (factory->dirty.empty()) continue;
    db::Transaction tx(*conn);
    for (const auto& device : factory->dirty) {
      auto state = factory->evaluator.save_device_state(device);
      if (!state) {
        conn->execute("DELETE FROM rule_states WHERE factory_id = ? AND device_id = ?", {id, device});
        continue;
      }
      // REPLACE means the same in SQLite and MySQL: delete the row with this key, insert.
      conn->execute("REPLACE INTO rule_states (factory_id, device_id, state, updated_at) VALUES (?, ?, ?, ?)",
                    {id, device, *state, now});
    }
    tx.commit();
    factory->dirty.clear();
  }
}

void RuleEngine::handle_events_locked(Factory& factory, std::vector<Event>& events) {
  for (const Event& event : events) {
    auto rule_it = factory.rules.find(event.rule_id);
    if (rule_it == factory.rules.end()) continue;
    const Rule& rule = rule_it->second;
    try {
      switch (event.kind) {
        case EventKind::fire:
        case EventKind::escalate: {
          alerts::Trigger trigger;
          trigger.rule_id = rule.id;
          trigger.rule_name = rule.name;
          trigger.device_id = event.device_id;
          trigger.severity = event.severity;
          if (!event.parameter.empty()) trigger.parameter = event.parameter;
          trigger.value = event.value;
          trigger.threshold = event.threshold;
          trigger.message = describe(rule, event.condition);
          trigger.started_at_ms = event.started_at_ms;
          auto raised = alerts_.raise(factory.id, trigger);
          // Unchanged: another replica opened it and notifies.
          if (raised.result == alerts::RaiseResult::unchanged || !event.notify) break;
          enqueue_notifications_locked(factory, rule, raised.alert,
                                       raised.result == alerts::RaiseResult::opened ? "opened" : "escalated");
          break;
        }
        case EventKind::renotify: {
          if (auto alert = alerts_.find_unresolved(factory.id, rule.id, event.device_id))
            enqueue_notifications_locked(factory, rule, *alert, "reminder");
          break;
        }
        case EventKind::clear: {
          auto cleared = alerts_.clear(factory.id, rule.id, event.device_id, event.value, event.at_ms);
          if (cleared) enqueue_notifications_locked(factory, rule, *cleared, "resolved");
          break;
        }
      }
    } catch (const std::exception& e) {
      // The evaluator has moved on; a lost transition is logged, the next reading re-decides.
      log::error("alert transition failed", {{"factory_id", factory.id.str()},
                                             {"rule_id", event.rule_id},
                                             {"device_id", event.device_id},
                                             {"event", event_kind_name(event.kind)},
                                             {"error", std::string_view(e.what())}});
    }
  }
}

void RuleEngine::enqueue_notifications_locked(Factory& factory, const Rule& rule, const alerts::Alert& alert,
                                              std::string_view event) {
  auto enqueue = [&](std::string_view channel, const std::string& recipient) {
    json::object payload{
        {"alert_id", alert.id}, {"event", event}, {"channel", channel}, {"recipient", recipient}};
    jobs_.enqueue(queue::make_job(queue::kNotificationsQueue, kNotifyTask, factory.id.str(),
                                  http::generate_request_id(), json::serialize(payload)));
  };
  for (const auto& email : rule.channels.emails) enqueue("email", email);
  for (const auto& number : rule.channels.whatsapp) enqueue("whatsapp", number);
  if (rule.channels.in_app) {
    // In the app means the alert list and the live feed, which have it already.
    alerts_.record_notification(factory.id, alert.id,
                                alerts::NotificationAttempt{std::string(event), "in_app", "web app", true,
                                                            "shown in the alert list and the live feed",
                                                            std::nullopt, 1, db::now_ms()});
  }
}

}  // namespace factoryops::rules
