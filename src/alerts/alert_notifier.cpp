#include "alerts/alert_notifier.hpp"

#include <boost/json.hpp>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "db/clock.hpp"

namespace factoryops::alerts {
namespace json = boost::json;
namespace {

std::string field(const json::object& payload, std::string_view name) {
  const auto* v = payload.if_contains(name);
  if (!v || !v->is_string()) throw core::Invalid("payload." + std::string(name), "must be a string");
  return std::string(v->as_string());
}

std::optional<notify::AlertEvent> parse_event(std::string_view text) {
  if (text == "opened") return notify::AlertEvent::opened;
  if (text == "escalated") return notify::AlertEvent::escalated;
  if (text == "reminder") return notify::AlertEvent::reminder;
  if (text == "resolved") return notify::AlertEvent::resolved;
  return std::nullopt;
}

}  // namespace

void AlertNotifier::handle(const queue::Job& job) {
  boost::system::error_code ec;
  json::value doc = json::parse(job.payload, ec);
  if (ec || !doc.is_object()) throw core::Invalid("payload", "must be a JSON object");
  const auto& payload = doc.as_object();
  const auto* id = payload.if_contains("alert_id");
  if (!id || !id->is_int64()) throw core::Invalid("payload.alert_id", "must be an integer");
  const std::string event_name = field(payload, "event");
  const std::string channel = field(payload, "channel");
  const std::string recipient = field(payload, "recipient");
  auto event = parse_event(event_name);
  if (!event) throw core::Invalid("payload.event", "must be opened, escalated, reminder or resolved");
  notify::ChannelKind kind;
  if (channel == "email") {
    kind = notify::ChannelKind::email;
  } else if (channel == "whatsapp") {
    kind = notify::ChannelKind::whatsapp;
  } else {
    throw core::Invalid("payload.channel", "must be email or whatsapp");
  }
  const core::FactoryId factory(job.factory_id);
  // The alert must be the job's factory's: another factory's id finds nothing.
  auto alert = alerts_.find(factory, id->as_int64());
  if (!alert) throw core::Invalid("payload.alert_id", "names no alert of factory " + factory.str());

  notify::AlertNotice notice;
  notice.event = *event;
  notice.alert_id = alert->id;
  notice.factory_id = factory.str();
  notice.machine_id = alert->device_id;
  notice.rule_name = alert->rule_name;
  notice.severity = std::string(rules::severity_name(alert->severity));
  notice.parameter = alert->parameter.value_or("");
  notice.condition = alert->message;
  {
    auto conn = database_.acquire();
    if (auto row = conn->query_one("SELECT name, timezone FROM factories WHERE id = ?", {factory.str()})) {
      notice.factory_name = row->get_string(0);
      notice.timezone = row->get_string(1);
    }
    if (auto row = conn->query_one("SELECT name FROM devices WHERE factory_id = ? AND device_id = ?",
                                   {factory.str(), alert->device_id}))
      notice.machine_name = row->get_string(0);
    if (alert->parameter) {
      if (auto row = conn->query_one("SELECT unit FROM device_parameters WHERE factory_id = ? AND device_id "
                                     "= ? AND parameter_key = ?",
                                     {factory.str(), alert->device_id, *alert->parameter}))
        notice.unit = row->get_optional_string(0).value_or("");
    }
  }
  if (*event == notify::AlertEvent::resolved) {
    notice.value = alert->last_value;
    notice.at_ms = alert->resolved_at_ms.value_or(db::now_ms());
    if (alert->resolved_by)
      notice.resolved_by =
          alert->resolved_by->name.empty() ? alert->resolved_by->email : alert->resolved_by->name;
  } else {
    notice.value = alert->value;
    notice.at_ms = *event == notify::AlertEvent::opened ? alert->started_at_ms : db::now_ms();
  }
  notice.threshold = alert->threshold;

  auto rendered = notify::render_alert(notice, channels_.public_url);
  // One Message-ID per (alert, event, recipient): a retried email is recognisably the same one.
  std::string message_id =
      "<alert-" + std::to_string(alert->id) + "-" + event_name + "-" + job.id + "@factoryops>";
  auto result = notify::send_alert(channels_, kind, recipient, rendered, message_id);
  NotificationAttempt attempt{event_name,
                              channel,
                              recipient,
                              result.sent,
                              result.sent ? result.detail : result.code + ": " + result.detail,
                              result.sent ? std::optional<std::string>(result.provider_id) : std::nullopt,
                              job.attempts,
                              db::now_ms()};
  alerts_.record_notification(factory, alert->id, attempt);
  if (result.sent) return;
  log::warn("alert notification failed", {{"alert_id", alert->id},
                                          {"channel", channel},
                                          {"code", result.code},
                                          {"retryable", result.retryable}});
  if (result.retryable) throw core::Unavailable(channel + " notification failed: " + result.code);
}

}  // namespace factoryops::alerts
