#include "notify/alert_message.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "notify/text_format.hpp"

namespace factoryops::notify {
namespace {

// Names come from users; long ones are cut so that a WhatsApp text stays well within Twilio's limit.
constexpr std::size_t kMaxNameInWhatsApp = 120;
constexpr const char* kMiddleDot = "\xC2\xB7";

struct SeverityStyle {
  std::string_view name;
  const char* colour;  // badge background, dark enough for white text
  const char* mark;    // WhatsApp prefix
};

constexpr SeverityStyle kSeverities[] = {
    {"critical", "#b91c1c", "\xF0\x9F\x94\xB4"},  // red circle
    {"major", "#c2410c", "\xF0\x9F\x9F\xA0"},     // orange circle
    {"minor", "#a16207", "\xF0\x9F\x9F\xA1"},     // yellow circle
    {"warning", "#a16207", "\xE2\x9A\xA0"},       // warning sign
    {"info", "#1d4ed8", "\xF0\x9F\x94\xB5"},      // blue circle
};
constexpr SeverityStyle kUnknownSeverity{"", "#374151", "\xE2\x9A\xA0"};
constexpr const char* kResolvedColour = "#15803d";
constexpr const char* kResolvedMark = "\xE2\x9C\x85";  // check mark

const SeverityStyle& style_of(std::string_view severity) {
  for (const auto& s : kSeverities) {
    if (s.name == severity) return s;
  }
  return kUnknownSeverity;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string capitalised(std::string_view text) {
  std::string out(text);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// "Compressor 1 (compressor-1)", or just one of them when the other is missing or the same.
std::string named(std::string_view name, std::string_view id) {
  if (name.empty()) return std::string(id);
  if (id.empty() || name == id) return std::string(name);
  return std::string(name) + " (" + std::string(id) + ")";
}

std::string short_name(std::string_view name, std::string_view id) {
  return std::string(name.empty() ? id : name);
}

std::string with_unit(double value, std::string_view unit) {
  std::string out = format_number(value);
  if (!unit.empty()) out += " " + std::string(unit);
  return out;
}

std::string badge(const AlertNotice& n) {
  std::string severity = upper(n.severity);
  switch (n.event) {
    case AlertEvent::opened: return severity;
    case AlertEvent::escalated: return severity + ", escalated";
    case AlertEvent::reminder: return severity + ", still open";
    case AlertEvent::resolved: return "RESOLVED";
  }
  return severity;
}

std::string headline(const AlertNotice& n) {
  std::string where = " at " + short_name(n.factory_name, n.factory_id) + ": " + n.rule_name + " on " +
                      short_name(n.machine_name, n.machine_id);
  switch (n.event) {
    case AlertEvent::opened: return capitalised(n.severity) + " alert" + where;
    case AlertEvent::escalated: return "Alert escalated to " + n.severity + where;
    case AlertEvent::reminder: return capitalised(n.severity) + " alert still open" + where;
    case AlertEvent::resolved: return "Alert resolved" + where;
  }
  return where;
}

// The facts, in the order both email parts show them.
std::vector<std::pair<std::string, std::string>> facts(const AlertNotice& n) {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("Factory", named(n.factory_name, n.factory_id));
  rows.emplace_back("Machine", named(n.machine_name, n.machine_id));
  rows.emplace_back("Rule", n.rule_name);
  rows.emplace_back("Severity", n.severity);
  if (!n.parameter.empty()) rows.emplace_back("Parameter", n.parameter);
  if (!n.condition.empty()) rows.emplace_back("Condition", n.condition);
  if (n.value)
    rows.emplace_back(n.event == AlertEvent::resolved ? "Value at clearing" : "Value",
                      with_unit(*n.value, n.unit));
  if (n.threshold) rows.emplace_back("Threshold", with_unit(*n.threshold, n.unit));
  std::string when = format_local_time(n.at_ms, n.timezone);
  if (n.timezone != "UTC" && !n.timezone.empty()) when += " (" + n.timezone + ")";
  rows.emplace_back(n.event == AlertEvent::resolved ? "Resolved at" : "Time", when);
  if (n.event == AlertEvent::resolved && !n.resolved_by.empty())
    rows.emplace_back("Resolved by", n.resolved_by);
  return rows;
}

std::string text_body(const AlertNotice& n, const std::string& link) {
  std::string out = headline(n) + "\n\n";
  std::size_t width = 0;
  auto rows = facts(n);
  for (const auto& [label, value] : rows) width = std::max(width, label.size());
  for (const auto& [label, value] : rows) {
    out += label + ":" + std::string(width - label.size() + 1, ' ') + value + "\n";
  }
  out += "\nOpen the alert: " + link + "\n";
  out += "\n-- \nFactoryOps notifies you because the rule \"" + n.rule_name + "\" lists this address.\n";
  return out;
}

std::string html_body(const AlertNotice& n, const std::string& subject, const std::string& link) {
  const char* colour = n.event == AlertEvent::resolved ? kResolvedColour : style_of(n.severity).colour;
  std::string out;
  out += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(subject) +
         "</title></head>\n";
  out +=
      "<body style=\"margin:0;padding:24px;background:#f3f4f6;font-family:Arial,Helvetica,sans-serif;"
      "color:#111827\">\n";
  out += "<div style=\"max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px\">\n";
  out +=
      "<p style=\"margin:0 0 8px\"><span style=\"display:inline-block;padding:2px 8px;border-radius:4px;"
      "background:" +
      std::string(colour) + ";color:#ffffff;font-size:12px;font-weight:bold\">" + html_escape(badge(n)) +
      "</span></p>\n";
  out += "<h1 style=\"margin:0 0 16px;font-size:18px\">" + html_escape(headline(n)) + "</h1>\n";
  out += "<table style=\"border-collapse:collapse;width:100%;font-size:14px\">\n";
  for (const auto& [label, value] : facts(n)) {
    out +=
        "<tr><th style=\"text-align:left;padding:4px 16px 4px 0;color:#6b7280;font-weight:normal;"
        "white-space:nowrap\">" +
        html_escape(label) + "</th><td style=\"padding:4px 0\">" + html_escape(value) + "</td></tr>\n";
  }
  out += "</table>\n";
  out +=
      "<p style=\"margin:24px 0 0\"><a href=\"" + html_escape(link) +
      "\" style=\"display:inline-block;padding:8px 16px;border-radius:6px;background:#1d4ed8;color:#ffffff;"
      "text-decoration:none\">Open the alert</a></p>\n";
  out += "<p style=\"margin:8px 0 0;font-size:12px;color:#6b7280\">" + html_escape(link) + "</p>\n";
  out +=
      "<p style=\"margin:24px 0 0;font-size:12px;color:#6b7280\">FactoryOps notifies you because the rule "
      "&quot;" +
      html_escape(n.rule_name) + "&quot; lists this address.</p>\n";
  out += "</div>\n</body></html>\n";
  return out;
}

std::string whatsapp_text(const AlertNotice& n, const std::string& link) {
  const char* mark = n.event == AlertEvent::resolved ? kResolvedMark : style_of(n.severity).mark;
  std::string title = n.event == AlertEvent::opened ? upper(n.severity) + " alert" : badge(n);
  std::string out =
      std::string(mark) + " " + title + ": " + truncate_utf8(n.rule_name, kMaxNameInWhatsApp) + "\n";
  out += truncate_utf8(short_name(n.machine_name, n.machine_id), kMaxNameInWhatsApp) + " " + kMiddleDot +
         " " + truncate_utf8(short_name(n.factory_name, n.factory_id), kMaxNameInWhatsApp) + "\n";
  if (n.value) {
    std::string line =
        n.parameter.empty() ? std::string() : truncate_utf8(n.parameter, kMaxNameInWhatsApp) + " ";
    line += with_unit(*n.value, n.unit);
    if (n.threshold && n.event != AlertEvent::resolved)
      line += " (threshold " + with_unit(*n.threshold, n.unit) + ")";
    out += line + "\n";
  } else if (!n.condition.empty()) {
    out += truncate_utf8(n.condition, kMaxNameInWhatsApp) + "\n";
  }
  out += format_local_time(n.at_ms, n.timezone) + "\n";
  out += link;
  return truncate_utf8(out, kMaxWhatsAppBody);
}

}  // namespace

std::string_view alert_event_name(AlertEvent event) {
  switch (event) {
    case AlertEvent::opened: return "opened";
    case AlertEvent::escalated: return "escalated";
    case AlertEvent::reminder: return "reminder";
    case AlertEvent::resolved: return "resolved";
  }
  return "unknown";
}

std::string alert_link(std::string_view public_url, std::int64_t alert_id) {
  std::string base(public_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/alerts/" + std::to_string(alert_id);
}

RenderedAlert render_alert(const AlertNotice& notice, std::string_view public_url) {
  std::string link = alert_link(public_url, notice.alert_id);
  RenderedAlert out;
  out.email.subject = single_line("[" + badge(notice) + "] " + notice.rule_name + " - " +
                                  short_name(notice.machine_name, notice.machine_id) + " - " +
                                  short_name(notice.factory_name, notice.factory_id));
  out.email.text = text_body(notice, link);
  out.email.html = html_body(notice, out.email.subject, link);
  out.whatsapp = whatsapp_text(notice, link);
  return out;
}

EmailMessage to_email(const RenderedEmail& email, std::vector<std::string> to, std::string message_id) {
  EmailMessage m;
  m.to = std::move(to);
  m.subject = email.subject;
  m.text = email.text;
  m.html = email.html;
  m.message_id = std::move(message_id);
  return m;
}

}  // namespace factoryops::notify
