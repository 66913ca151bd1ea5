// The words of an alert notification: from the facts of one alert event (factory, machine,
// rule, severity, value, threshold, time in the factory's timezone, link to the alert in the
// web app) it builds an email (subject, plain text, HTML with every value escaped) and a short
// WhatsApp text. Pure functions over values, thread-safe; the alert code fills AlertNotice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "notify/channel.hpp"

namespace factoryops::notify {

enum class AlertEvent {
  opened,     // the condition held long enough: a new alert
  escalated,  // the open alert reached a worse severity
  reminder,   // still open after the rule's repeat interval
  resolved,   // the clear condition held, or someone resolved it
};

std::string_view alert_event_name(AlertEvent event);

struct AlertNotice {
  AlertEvent event = AlertEvent::opened;
  std::int64_t alert_id = 0;
  std::string factory_id;
  std::string factory_name;
  std::string timezone = "UTC";  // the factory's IANA zone: times are shown in it
  std::string machine_id;
  std::string machine_name;
  std::string rule_name;
  std::string severity;   // critical | major | minor | warning | info
  std::string parameter;  // the metric, e.g. "power_kw"; empty for a no-data rule
  // The rule's condition in words, e.g. "> 75 for 5 min"; empty to leave it out.
  std::string condition;
  std::optional<double> value;      // the value that triggered (resolved: the value that cleared)
  std::optional<double> threshold;  // absent for no-data and rate rules without one
  std::string unit;                 // "kW"; may be empty
  std::int64_t at_ms = 0;           // when the event happened
  std::string resolved_by;          // resolved by hand: who; empty when automatic
};

struct RenderedEmail {
  std::string subject;
  std::string text;
  std::string html;
};

struct RenderedAlert {
  RenderedEmail email;
  std::string whatsapp;  // at most kMaxWhatsAppBody characters
};

// "{public_url}/alerts/{id}": where the web app shows the alert.
std::string alert_link(std::string_view public_url, std::int64_t alert_id);

// `public_url` is FACTORYOPS_PUBLIC_URL (core::Config::public_url).
RenderedAlert render_alert(const AlertNotice& notice, std::string_view public_url);

// An EmailMessage carrying `email` to `to`.
EmailMessage to_email(const RenderedEmail& email, std::vector<std::string> to, std::string message_id = {});

}  // namespace factoryops::notify
