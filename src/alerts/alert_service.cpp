#include "alerts/alert_service.hpp"

#include <boost/json.hpp>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "db/audit_repository.hpp"
#include "db/clock.hpp"

namespace factoryops::alerts {
namespace json = boost::json;
namespace {

// Every read of an alert names the people who acknowledged and resolved it.
constexpr std::string_view kSelectAlert =
    "SELECT a.id, a.rule_id, a.device_id, a.rule_name, a.severity, a.status, a.parameter, a.trigger_value, "
    "a.threshold, a.message, a.started_at, a.last_value, a.escalated_at, a.acknowledged_at, "
    "a.acknowledged_by, ua.email AS ack_email, ua.name AS ack_name, a.ack_comment, a.resolved_at, "
    "a.resolved_by, ur.email AS res_email, ur.name AS res_name, a.resolution, a.resolve_comment, "
    "a.updated_at "
    "FROM alerts a "
    "LEFT JOIN users ua ON ua.factory_id = a.factory_id AND ua.id = a.acknowledged_by "
    "LEFT JOIN users ur ON ur.factory_id = a.factory_id AND ur.id = a.resolved_by ";

constexpr std::size_t kMaxComment = 1000;

std::optional<UserRef> user_ref(const db::Row& row, std::string_view id, std::string_view email,
                                std::string_view name) {
  auto user_id = row.get_optional_int(id);
  if (!user_id) return std::nullopt;
  return UserRef{*user_id, row.get_optional_string(email).value_or(""),
                 row.get_optional_string(name).value_or("")};
}

Alert alert_from(const db::Row& row) {
  Alert a;
  a.id = row.get_int("id");
  a.rule_id = row.get_int("rule_id");
  a.device_id = row.get_string("device_id");
  a.rule_name = row.get_string("rule_name");
  a.severity = rules::parse_severity(row.get_string("severity")).value_or(rules::Severity::warning);
  a.status = parse_status(row.get_string("status")).value_or(AlertStatus::open);
  a.parameter = row.get_optional_string("parameter");
  a.value = row.get_optional_double("trigger_value");
  a.threshold = row.get_optional_double("threshold");
  a.message = row.get_string("message");
  a.started_at_ms = row.get_int("started_at");
  a.last_value = row.get_optional_double("last_value");
  a.escalated_at_ms = row.get_optional_int("escalated_at");
  a.acknowledged_at_ms = row.get_optional_int("acknowledged_at");
  a.acknowledged_by = user_ref(row, "acknowledged_by", "ack_email", "ack_name");
  a.ack_comment = row.get_optional_string("ack_comment");
  a.resolved_at_ms = row.get_optional_int("resolved_at");
  a.resolved_by = user_ref(row, "resolved_by", "res_email", "res_name");
  a.resolution = row.get_optional_string("resolution");
  a.resolve_comment = row.get_optional_string("resolve_comment");
  a.updated_at_ms = row.get_int("updated_at");
  return a;
}

std::optional<Alert> select_by_id(db::Connection& conn, const core::FactoryId& factory, std::int64_t id) {
  auto row =
      conn.query_one(std::string(kSelectAlert) + "WHERE a.factory_id = ? AND a.id = ?", {factory.str(), id});
  if (!row) return std::nullopt;
  return alert_from(*row);
}

std::optional<Alert> select_unresolved(db::Connection& conn, const core::FactoryId& factory,
                                       std::int64_t rule_id, std::string_view device_id) {
  auto row =
      conn.query_one(std::string(kSelectAlert) +
                         "WHERE a.factory_id = ? AND a.rule_id = ? AND a.device_id = ? AND a.open_guard = 1",
                     {factory.str(), rule_id, device_id});
  if (!row) return std::nullopt;
  return alert_from(*row);
}

std::optional<std::string> checked_comment(std::optional<std::string> comment) {
  if (!comment) return std::nullopt;
  if (comment->size() > kMaxComment)
    throw core::Invalid("comment", "must be at most " + std::to_string(kMaxComment) + " characters");
  if (comment->empty()) return std::nullopt;
  return comment;
}

void audit(db::Connection& conn, const auth::FactoryContext& context, std::string action, std::int64_t id,
           const json::object& details) {
  db::AuditEntry entry;
  if (context.user_id > 0) entry.user_id = context.user_id;
  entry.action = std::move(action);
  entry.resource_type = "alert";
  entry.resource_id = std::to_string(id);
  entry.details_json = json::serialize(details);
  if (!context.request_id.empty()) entry.request_id = context.request_id;
  if (!context.ip.empty()) entry.ip = context.ip;
  db::AuditRepository::record(conn, context.factory_id, entry);
}

core::NotFound alert_not_found(std::int64_t id) {
  return core::NotFound("alert " + std::to_string(id) + " not found");
}

// Appends "col IN (?, ?, …)" for a non-empty list.
template <typename T, typename Name>
void add_in(std::string& where, std::vector<db::Value>& params, std::string_view column,
            const std::vector<T>& values, Name name) {
  if (values.empty()) return;
  where += std::string(" AND ") + std::string(column) + " IN (";
  for (std::size_t i = 0; i < values.size(); ++i) {
    where += i == 0 ? "?" : ", ?";
    params.emplace_back(std::string(name(values[i])));
  }
  where += ")";
}

}  // namespace

std::string_view status_name(AlertStatus status) {
  switch (status) {
    case AlertStatus::open: return "open";
    case AlertStatus::acknowledged: return "acknowledged";
    case AlertStatus::resolved: return "resolved";
  }
  return "open";
}

std::optional<AlertStatus> parse_status(std::string_view text) {
  if (text == "open") return AlertStatus::open;
  if (text == "acknowledged") return AlertStatus::acknowledged;
  if (text == "resolved") return AlertStatus::resolved;
  return std::nullopt;
}

Raised AlertService::raise(const core::FactoryId& factory, const Trigger& trigger) {
  auto conn = database_.acquire();
  const std::int64_t now = db::now_ms();
  // Another replica may open, or a person resolve, between our statements: each round either
  // inserts, or finds the unresolved alert and escalates or keeps it; a vanished one is retried.
  for (int round = 0; round < 3; ++round) {
    try {
      auto inserted = conn->execute(
          "INSERT INTO alerts (factory_id, rule_id, device_id, rule_name, severity, status, open_guard, "
          "parameter, trigger_value, threshold, message, started_at, last_value, updated_at) "
          "VALUES (?, ?, ?, ?, ?, 'open', 1, ?, ?, ?, ?, ?, ?, ?)",
          {factory.str(), trigger.rule_id, trigger.device_id, trigger.rule_name,
           rules::severity_name(trigger.severity), trigger.parameter, trigger.value, trigger.threshold,
           trigger.message, trigger.started_at_ms, trigger.value, now});
      auto alert = select_by_id(*conn, factory, inserted.last_insert_id);
      if (!alert) continue;
      notify(factory, "opened", *alert);
      return Raised{RaiseResult::opened, std::move(*alert)};
    } catch (const core::Conflict&) {
      // Already unresolved for this rule and machine: the data model says so.
    }
    auto existing = select_unresolved(*conn, factory, trigger.rule_id, trigger.device_id);
    if (!existing) continue;
    if (trigger.severity <= existing->severity) {
      if (trigger.value) {
        conn->execute("UPDATE alerts SET last_value = ?, updated_at = ? WHERE factory_id = ? AND id = ?",
                      {trigger.value, now, factory.str(), existing->id});
        existing->last_value = trigger.value;
      }
      return Raised{RaiseResult::unchanged, std::move(*existing)};
    }
    // Worse than what is open: the alert takes the new severity and wants attention again.
    auto changed = conn->execute(
        "UPDATE alerts SET severity = ?, status = 'open', escalated_at = ?, trigger_value = ?, threshold = "
        "?, "
        "parameter = ?, last_value = ?, updated_at = ? WHERE factory_id = ? AND id = ? AND open_guard = 1",
        {rules::severity_name(trigger.severity), now, trigger.value, trigger.threshold, trigger.parameter,
         trigger.value, now, factory.str(), existing->id});
    if (changed.affected_rows == 0) continue;
    auto alert = select_by_id(*conn, factory, existing->id);
    if (!alert) continue;
    notify(factory, "escalated", *alert);
    return Raised{RaiseResult::escalated, std::move(*alert)};
  }
  throw core::Unavailable("alert for rule " + std::to_string(trigger.rule_id) + " on '" + trigger.device_id +
                          "' kept changing; try again");
}

std::optional<Alert> AlertService::clear(const core::FactoryId& factory, std::int64_t rule_id,
                                         std::string_view device_id, std::optional<double> value,
                                         std::int64_t at_ms) {
  auto conn = database_.acquire();
  auto existing = select_unresolved(*conn, factory, rule_id, device_id);
  if (!existing) return std::nullopt;
  auto changed = conn->execute(
      "UPDATE alerts SET status = 'resolved', open_guard = NULL, resolved_at = ?, resolution = 'auto', "
      "last_value = COALESCE(?, last_value), updated_at = ? WHERE factory_id = ? AND id = ? AND open_guard = "
      "1",
      {at_ms, value, db::now_ms(), factory.str(), existing->id});
  if (changed.affected_rows == 0) return std::nullopt;  // resolved meanwhile, by someone else
  auto alert = select_by_id(*conn, factory, existing->id);
  if (alert) notify(factory, "resolved", *alert);
  return alert;
}

std::vector<Alert> AlertService::resolve_rule(const core::FactoryId& factory, std::int64_t rule_id,
                                              std::string_view why, std::int64_t at_ms) {
  auto conn = database_.acquire();
  auto rows = conn->query("SELECT id FROM alerts WHERE factory_id = ? AND rule_id = ? AND open_guard = 1",
                          {factory.str(), rule_id});
  std::vector<Alert> resolved;
  for (const auto& row : rows) {
    std::int64_t id = row.get_int(0);
    auto changed = conn->execute(
        "UPDATE alerts SET status = 'resolved', open_guard = NULL, resolved_at = ?, resolution = 'auto', "
        "resolve_comment = ?, updated_at = ? WHERE factory_id = ? AND id = ? AND open_guard = 1",
        {at_ms, why, db::now_ms(), factory.str(), id});
    if (changed.affected_rows == 0) continue;
    if (auto alert = select_by_id(*conn, factory, id)) {
      notify(factory, "resolved", *alert);
      resolved.push_back(std::move(*alert));
    }
  }
  return resolved;
}

Alert AlertService::acknowledge(const auth::FactoryContext& context, std::int64_t id,
                                std::optional<std::string> comment) {
  context.require(auth::Action::view_dashboard);
  comment = checked_comment(std::move(comment));
  auto conn = database_.acquire();
  db::Transaction tx(*conn);
  auto changed = conn->execute(
      "UPDATE alerts SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, ack_comment = ?, "
      "updated_at = ? WHERE factory_id = ? AND id = ? AND status = 'open'",
      {db::now_ms(), context.user_id > 0 ? std::optional<std::int64_t>(context.user_id) : std::nullopt,
       comment, db::now_ms(), context.factory_id.str(), id});
  if (changed.affected_rows == 0) {
    auto current = select_by_id(*conn, context.factory_id, id);
    if (!current) throw alert_not_found(id);
    throw core::Conflict("alert " + std::to_string(id) + " is already " +
                         std::string(status_name(current->status)));
  }
  json::object details;
  if (comment) details["comment"] = *comment;
  audit(*conn, context, "alert.acknowledged", id, details);
  auto alert = select_by_id(*conn, context.factory_id, id);
  tx.commit();
  if (!alert) throw alert_not_found(id);
  notify(context.factory_id, "acknowledged", *alert);
  return std::move(*alert);
}

Alert AlertService::resolve(const auth::FactoryContext& context, std::int64_t id,
                            std::optional<std::string> comment) {
  context.require(auth::Action::view_dashboard);
  comment = checked_comment(std::move(comment));
  auto conn = database_.acquire();
  db::Transaction tx(*conn);
  auto changed = conn->execute(
      "UPDATE alerts SET status = 'resolved', open_guard = NULL, resolved_at = ?, resolved_by = ?, "
      "resolution = 'manual', resolve_comment = ?, updated_at = ? "
      "WHERE factory_id = ? AND id = ? AND status <> 'resolved'",
      {db::now_ms(), context.user_id > 0 ? std::optional<std::int64_t>(context.user_id) : std::nullopt,
       comment, db::now_ms(), context.factory_id.str(), id});
  if (changed.affected_rows == 0) {
    if (!select_by_id(*conn, context.factory_id, id)) throw alert_not_found(id);
    throw core::Conflict("alert " + std::to_string(id) + " is already resolved");
  }
  json::object details;
  if (comment) details["comment"] = *comment;
  audit(*conn, context, "alert.resolved", id, details);
  auto alert = select_by_id(*conn, context.factory_id, id);
  tx.commit();
  if (!alert) throw alert_not_found(id);
  notify(context.factory_id, "resolved", *alert);
  return std::move(*alert);
}

AlertPage AlertService::list(const auth::FactoryContext& context, const AlertFilter& filter) const {
  context.require(auth::Action::view_dashboard);
  std::string where = "WHERE a.factory_id = ?";
  std::vector<db::Value> params{context.factory_id.str()};
  add_in(where, params, "a.status", filter.statuses, status_name);
  add_in(where, params, "a.severity", filter.severities, rules::severity_name);
  if (filter.device_id) {
    where += " AND a.device_id = ?";
    params.emplace_back(*filter.device_id);
  }
  if (filter.rule_id) {
    where += " AND a.rule_id = ?";
    params.emplace_back(*filter.rule_id);
  }
  if (filter.from_ms) {
    where += " AND a.started_at >= ?";
    params.emplace_back(*filter.from_ms);
  }
  if (filter.to_ms) {
    where += " AND a.started_at <= ?";
    params.emplace_back(*filter.to_ms);
  }
  auto conn = database_.acquire();
  AlertPage page;
  auto total = conn->query_one("SELECT COUNT(*) FROM alerts a " + where, params);
  page.total = total ? total->get_int(0) : 0;
  auto paged = params;
  paged.emplace_back(filter.limit);
  paged.emplace_back(filter.offset);
  for (const auto& row : conn->query(
           std::string(kSelectAlert) + where + " ORDER BY a.started_at DESC, a.id DESC LIMIT ? OFFSET ?",
           paged))
    page.items.push_back(alert_from(row));
  return page;
}

AlertDetail AlertService::get(const auth::FactoryContext& context, std::int64_t id) const {
  context.require(auth::Action::view_dashboard);
  auto conn = database_.acquire();
  auto alert = select_by_id(*conn, context.factory_id, id);
  if (!alert) throw alert_not_found(id);
  AlertDetail detail{std::move(*alert), {}};
  for (const auto& row :
       conn->query("SELECT id, event, channel, recipient, result, detail, provider_id, attempt, attempted_at "
                   "FROM alert_notifications WHERE factory_id = ? AND alert_id = ? ORDER BY id",
                   {context.factory_id.str(), id})) {
    NotificationRecord record;
    record.id = row.get_int("id");
    record.attempt.event = row.get_string("event");
    record.attempt.channel = row.get_string("channel");
    record.attempt.recipient = row.get_string("recipient");
    record.attempt.sent = row.get_string("result") == "sent";
    record.attempt.detail = row.get_string("detail");
    record.attempt.provider_id = row.get_optional_string("provider_id");
    record.attempt.attempt = static_cast<int>(row.get_int("attempt"));
    record.attempt.at_ms = row.get_int("attempted_at");
    detail.notifications.push_back(std::move(record));
  }
  return detail;
}

AlertCounts AlertService::counts(const auth::FactoryContext& context) const {
  context.require(auth::Action::view_dashboard);
  auto conn = database_.acquire();
  AlertCounts counts;
  for (const auto& row :
       conn->query("SELECT status, severity, device_id, COUNT(*) AS n FROM alerts "
                   "WHERE factory_id = ? AND open_guard = 1 GROUP BY status, severity, device_id",
                   {context.factory_id.str()})) {
    const std::int64_t n = row.get_int("n");
    if (row.get_string("status") == "open")
      counts.open += n;
    else
      counts.acknowledged += n;
    counts.by_severity[row.get_string("severity")] += n;
    counts.by_device[row.get_string("device_id")] += n;
  }
  return counts;
}

std::optional<Alert> AlertService::find(const core::FactoryId& factory, std::int64_t id) const {
  auto conn = database_.acquire();
  return select_by_id(*conn, factory, id);
}

std::optional<Alert> AlertService::find_unresolved(const core::FactoryId& factory, std::int64_t rule_id,
                                                   std::string_view device_id) const {
  auto conn = database_.acquire();
  return select_unresolved(*conn, factory, rule_id, device_id);
}

void AlertService::record_notification(const core::FactoryId& factory, std::int64_t alert_id,
                                       const NotificationAttempt& attempt) {
  auto conn = database_.acquire();
  // The alert must be this factory's: a job naming another factory's alert records nothing.
  auto owner =
      conn->query_one("SELECT id FROM alerts WHERE factory_id = ? AND id = ?", {factory.str(), alert_id});
  if (!owner) throw alert_not_found(alert_id);
  std::string detail = attempt.detail.size() > 1024 ? attempt.detail.substr(0, 1024) : attempt.detail;
  conn->execute(
      "INSERT INTO alert_notifications (factory_id, alert_id, event, channel, recipient, result, detail, "
      "provider_id, attempt, attempted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {factory.str(), alert_id, attempt.event, attempt.channel, attempt.recipient,
       attempt.sent ? "sent" : "failed", detail, attempt.provider_id, attempt.attempt, attempt.at_ms});
}

void AlertService::notify(const core::FactoryId& factory, std::string_view event, const Alert& alert) const {
  if (!listener_) return;
  try {
    listener_(factory, event, alert);
  } catch (const std::exception& e) {
    log::warn("alert listener failed", {{"alert_id", alert.id}, {"error", e.what()}});
  }
}

}  // namespace factoryops::alerts
