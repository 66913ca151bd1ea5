// The alert lifecycle (open -> acknowledged -> resolved) on the metadata database: raising an
// alert for a rule and machine, escalating, clearing, acknowledging and resolving by hand, the
// notification log, lists and counts. One unresolved alert per (rule, machine) is enforced by a
// unique index, so concurrent rule-engine replicas cannot open two. Thread-safe; the Database
// must outlive the service.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/context.hpp"
#include "core/ids.hpp"
#include "db/database.hpp"
#include "rules/rule.hpp"

namespace factoryops::alerts {

enum class AlertStatus { open, acknowledged, resolved };
std::string_view status_name(AlertStatus status);
std::optional<AlertStatus> parse_status(std::string_view text);

struct UserRef {
  std::int64_t id = 0;
  std::string email;
  std::string name;
};

struct Alert {
  std::int64_t id = 0;
  std::int64_t rule_id = 0;
  std::string device_id;
  std::string rule_name;
  rules::Severity severity = rules::Severity::warning;
  AlertStatus status = AlertStatus::open;
  std::optional<std::string> parameter{};
  std::optional<double> value{};  // the value that triggered it
  std::optional<double> threshold{};
  std::string message;
  std::int64_t started_at_ms = 0;
  std::optional<double> last_value{};
  std::optional<std::int64_t> escalated_at_ms{};
  std::optional<std::int64_t> acknowledged_at_ms{};
  std::optional<UserRef> acknowledged_by{};
  std::optional<std::string> ack_comment{};
  std::optional<std::int64_t> resolved_at_ms{};
  std::optional<UserRef> resolved_by{};     // none when resolved automatically
  std::optional<std::string> resolution{};  // "auto" | "manual"
  std::optional<std::string> resolve_comment{};
  std::int64_t updated_at_ms = 0;
};

// What the rule engine knows when a rule fires for a machine.
struct Trigger {
  std::int64_t rule_id = 0;
  std::string rule_name;
  std::string device_id;
  rules::Severity severity = rules::Severity::warning;
  std::optional<std::string> parameter{};
  std::optional<double> value{};
  std::optional<double> threshold{};
  std::string message{};
  std::int64_t started_at_ms = 0;
};

enum class RaiseResult { opened, escalated, unchanged };
struct Raised {
  RaiseResult result = RaiseResult::unchanged;
  Alert alert;
};

struct NotificationAttempt {
  std::string event;    // opened | escalated | reminder | resolved
  std::string channel;  // email | whatsapp | in_app
  std::string recipient;
  bool sent = false;
  std::string detail{};
  std::optional<std::string> provider_id{};
  int attempt = 1;
  std::int64_t at_ms = 0;
};

struct NotificationRecord {
  std::int64_t id = 0;
  NotificationAttempt attempt;
};

struct AlertDetail {
  Alert alert;
  std::vector<NotificationRecord> notifications;
};

struct AlertFilter {
  std::vector<AlertStatus> statuses{};  // empty: any
  std::vector<rules::Severity> severities{};
  std::optional<std::string> device_id{};
  std::optional<std::int64_t> rule_id{};
  std::optional<std::int64_t> from_ms{};  // started_at bounds, inclusive
  std::optional<std::int64_t> to_ms{};
  std::int64_t limit = 50;
  std::int64_t offset = 0;
};

struct AlertPage {
  std::vector<Alert> items;
  std::int64_t total = 0;
};

struct AlertCounts {
  std::int64_t open = 0;
  std::int64_t acknowledged = 0;
  std::map<std::string, std::int64_t> by_severity;  // unresolved alerts
  std::map<std::string, std::int64_t> by_device;
};

// Called after a change is committed: event is opened, escalated, acknowledged or resolved.
using AlertListener = std::function<void(const core::FactoryId&, std::string_view event, const Alert&)>;

class AlertService {
 public:
  explicit AlertService(db::Database& database) : database_(database) {}

  // Set before the service is shared between threads.
  void set_listener(AlertListener listener) { listener_ = std::move(listener); }

  // The rule fired for the machine: opens an alert, or escalates the unresolved one when the
  // trigger is worse, or leaves it (unchanged) - whoever raced to open it first.
  Raised raise(const core::FactoryId& factory, const Trigger& trigger);

  // The rule's clear condition holds: resolves the unresolved alert automatically, if any.
  std::optional<Alert> clear(const core::FactoryId& factory, std::int64_t rule_id, std::string_view device_id,
                             std::optional<double> value, std::int64_t at_ms);

  // The rule was deleted or disabled: its unresolved alerts are resolved, with `why` as comment.
  std::vector<Alert> resolve_rule(const core::FactoryId& factory, std::int64_t rule_id, std::string_view why,
                                  std::int64_t at_ms);

  // By a person (any admin of the factory). core::NotFound, or core::Conflict when the alert
  // is no longer in a state that allows it. Audited.
  Alert acknowledge(const auth::FactoryContext& context, std::int64_t id, std::optional<std::string> comment);
  Alert resolve(const auth::FactoryContext& context, std::int64_t id, std::optional<std::string> comment);

  AlertPage list(const auth::FactoryContext& context, const AlertFilter& filter) const;
  AlertDetail get(const auth::FactoryContext& context, std::int64_t id) const;
  AlertCounts counts(const auth::FactoryContext& context) const;

  // Without a caller (workers): the alert as stored, or nullopt.
  std::optional<Alert> find(const core::FactoryId& factory, std::int64_t id) const;
  std::optional<Alert> find_unresolved(const core::FactoryId& factory, std::int64_t rule_id,
                                       std::string_view device_id) const;

  void record_notification(const core::FactoryId& factory, std::int64_t alert_id,
                           const NotificationAttempt& attempt);

 private:
  void notify(const core::FactoryId& factory, std::string_view event, const Alert& alert) const;

  db::Database& database_;
  AlertListener listener_;
};

}  // namespace factoryops::alerts
