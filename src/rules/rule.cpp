#include "rules/rule.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <set>

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "tsdb/query_plan.hpp"
#include "users/user_repository.hpp"

namespace factoryops::rules {
namespace {
namespace json = boost::json;

constexpr std::array<std::string_view, 5> kSeverityNames = {"info", "warning", "minor", "major", "critical"};
constexpr std::array<std::string_view, 6> kComparisonSymbols = {">", ">=", "<", "<=", "==", "!="};
constexpr std::array<std::string_view, 6> kKindNames = {"threshold", "between", "outside",
                                                        "window",    "rate",    "no_data"};
constexpr std::array<std::string_view, 4> kFunctionNames = {"avg", "min", "max", "sum"};
constexpr std::array<std::string_view, 7> kDayNames = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::size_t kMaxScopeTextChars = 100;

std::string at(std::string_view parent, std::string_view key) {
  return std::string(parent) + "." + std::string(key);
}

std::string at(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

template <std::size_t N>
std::optional<std::size_t> index_of(const std::array<std::string_view, N>& names, std::string_view name) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return static_cast<std::size_t>(it - names.begin());
}

template <std::size_t N>
std::string one_of(const std::array<std::string_view, N>& names) {
  std::string text = "must be one of ";
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) text += ", ";
    text += names[i];
  }
  return text;
}

[[noreturn]] void unknown_field(const std::string& field, std::string_view allowed) {
  throw core::Invalid(field, "unknown field (allowed: " + std::string(allowed) + ")");
}

const json::object& object_at(const std::string& field, const json::value& value) {
  if (!value.is_object()) throw core::Invalid(field, "must be a JSON object");
  return value.as_object();
}

const json::array& array_at(const std::string& field, const json::value& value) {
  if (!value.is_array()) throw core::Invalid(field, "must be an array");
  return value.as_array();
}

std::string string_at(const std::string& field, const json::value& value) {
  if (!value.is_string()) throw core::Invalid(field, "must be a string");
  return std::string(value.as_string());
}

bool bool_at(const std::string& field, const json::value& value) {
  if (!value.is_bool()) throw core::Invalid(field, "must be true or false");
  return value.as_bool();
}

double number_at(const std::string& field, const json::value& value) {
  double number = 0;
  if (value.is_double()) {
    number = value.as_double();
  } else if (value.is_int64()) {
    number = static_cast<double>(value.as_int64());
  } else if (value.is_uint64()) {
    number = static_cast<double>(value.as_uint64());
  } else {
    throw core::Invalid(field, "must be a number");
  }
  if (!std::isfinite(number)) throw core::Invalid(field, "must be a finite number");
  return number;
}

std::int64_t integer_at(const std::string& field, const json::value& value) {
  if (value.is_int64()) return value.as_int64();
  if (value.is_uint64()) throw core::Invalid(field, "is too large");
  if (value.is_double()) {
    double number = value.as_double();
    if (std::isfinite(number) && std::trunc(number) == number && std::fabs(number) < 9e15) {
      return static_cast<std::int64_t>(number);
    }
  }
  throw core::Invalid(field, "must be a whole number");
}

// "HH:MM", 00:00 … 24:00.
int minute_of_day_at(const std::string& field, const json::value& value) {
  std::string text = string_at(field, value);
  auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4)) {
    throw core::Invalid(field, "must be a local time HH:MM such as 06:30");
  }
  int hours = (text[0] - '0') * 10 + (text[1] - '0');
  int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours > 24 || minutes > 59 || (hours == 24 && minutes != 0)) {
    throw core::Invalid(field, "must be a local time between 00:00 and 24:00");
  }
  return hours * 60 + minutes;
}

std::string minute_of_day_text(int minute) {
  std::string text = "00:00";
  text[0] = static_cast<char>('0' + minute / 600);
  text[1] = static_cast<char>('0' + minute / 60 % 10);
  text[3] = static_cast<char>('0' + minute % 60 / 10);
  text[4] = static_cast<char>('0' + minute % 10);
  return text;
}

std::size_t utf8_chars(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_known_zone(std::string_view name) {
  if (name.empty()) return false;
  try {
    date::locate_zone(name);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool uses_threshold(ConditionKind kind) {
  return kind == ConditionKind::threshold || kind == ConditionKind::window || kind == ConditionKind::rate;
}

bool uses_bounds(ConditionKind kind) {
  return kind == ConditionKind::between || kind == ConditionKind::outside;
}

bool uses_minutes(ConditionKind kind) {
  return kind == ConditionKind::window || kind == ConditionKind::no_data;
}

Condition parse_condition(const std::string& field, const json::value& value) {
  const json::object& object = object_at(field, value);
  auto kind_it = object.find("kind");
  if (kind_it == object.end()) throw core::Invalid(at(field, "kind"), "is required");
  auto kind = index_of(kKindNames, string_at(at(field, "kind"), kind_it->value()));
  if (!kind) throw core::Invalid(at(field, "kind"), one_of(kKindNames));
  Condition condition;
  condition.kind = static_cast<ConditionKind>(*kind);
  const std::string kind_name(kKindNames[*kind]);
  auto not_for_kind = [&](std::string_view key) {
    throw core::Invalid(at(field, key), "does not apply to a '" + kind_name + "' condition");
  };

  bool has_parameter = false, has_op = false, has_threshold = false, has_low = false, has_high = false,
       has_function = false, has_minutes = false;
  for (const auto& [key, item] : object) {
    const std::string name = at(field, key);
    if (key == "kind") continue;
    if (key == "parameter") {
      condition.parameter = string_at(name, item);
      has_parameter = true;
    } else if (key == "op") {
      if (!uses_threshold(condition.kind)) not_for_kind(key);
      auto op = parse_comparison(string_at(name, item));
      if (!op) throw core::Invalid(name, one_of(kComparisonSymbols));
      condition.op = *op;
      has_op = true;
    } else if (key == "threshold") {
      if (!uses_threshold(condition.kind)) not_for_kind(key);
      condition.threshold = number_at(name, item);
      has_threshold = true;
    } else if (key == "clear_threshold") {
      if (!uses_threshold(condition.kind)) not_for_kind(key);
      if (!item.is_null()) condition.clear_threshold = number_at(name, item);
    } else if (key == "low") {
      if (!uses_bounds(condition.kind)) not_for_kind(key);
      condition.low = number_at(name, item);
      has_low = true;
    } else if (key == "high") {
      if (!uses_bounds(condition.kind)) not_for_kind(key);
      condition.high = number_at(name, item);
      has_high = true;
    } else if (key == "function") {
      if (condition.kind != ConditionKind::window) not_for_kind(key);
      auto function = index_of(kFunctionNames, string_at(name, item));
      if (!function) throw core::Invalid(name, one_of(kFunctionNames));
      condition.function = static_cast<WindowFunction>(*function);
      has_function = true;
    } else if (key == "minutes") {
      if (!uses_minutes(condition.kind)) not_for_kind(key);
      condition.minutes = integer_at(name, item);
      has_minutes = true;
    } else {
      unknown_field(name, "kind, parameter, op, threshold, clear_threshold, low, high, function, minutes");
    }
  }
  if (!has_parameter && condition.kind != ConditionKind::no_data) {
    throw core::Invalid(at(field, "parameter"), "is required");
  }
  if (uses_threshold(condition.kind)) {
    if (!has_op) throw core::Invalid(at(field, "op"), "is required");
    if (!has_threshold) throw core::Invalid(at(field, "threshold"), "is required");
  }
  if (uses_bounds(condition.kind)) {
    if (!has_low) throw core::Invalid(at(field, "low"), "is required");
    if (!has_high) throw core::Invalid(at(field, "high"), "is required");
  }
  if (condition.kind == ConditionKind::window && !has_function) {
    throw core::Invalid(at(field, "function"), "is required");
  }
  if (uses_minutes(condition.kind) && !has_minutes) throw core::Invalid(at(field, "minutes"), "is required");
  return condition;
}

Scope parse_scope(const json::value& value) {
  const json::object& object = object_at("scope", value);
  Scope scope;
  auto kind_it = object.find("kind");
  if (kind_it == object.end()) throw core::Invalid("scope.kind", "is required");
  std::string kind = string_at("scope.kind", kind_it->value());
  if (kind == "all") {
    scope.kind = ScopeKind::all;
  } else if (kind == "devices") {
    scope.kind = ScopeKind::devices;
  } else if (kind == "type") {
    scope.kind = ScopeKind::device_type;
  } else if (kind == "line") {
    scope.kind = ScopeKind::line;
  } else {
    throw core::Invalid("scope.kind", "must be one of all, devices, type, line");
  }
  for (const auto& [key, item] : object) {
    const std::string name = at("scope", key);
    if (key == "kind") continue;
    if (key == "device_ids") {
      if (scope.kind != ScopeKind::devices) throw core::Invalid(name, "applies to kind 'devices' only");
      const json::array& ids = array_at(name, item);
      for (std::size_t i = 0; i < ids.size(); ++i) scope.device_ids.push_back(string_at(at(name, i), ids[i]));
    } else if (key == "device_type") {
      if (scope.kind != ScopeKind::device_type) throw core::Invalid(name, "applies to kind 'type' only");
      scope.device_type = string_at(name, item);
    } else if (key == "line") {
      if (scope.kind != ScopeKind::line) throw core::Invalid(name, "applies to kind 'line' only");
      scope.line = string_at(name, item);
    } else {
      unknown_field(name, "kind, device_ids, device_type, line");
    }
  }
  return scope;
}

Schedule parse_schedule(const json::value& value, std::string_view factory_timezone) {
  const json::object& object = object_at("schedule", value);
  Schedule schedule;
  schedule.timezone = std::string(factory_timezone);
  bool has_start = false, has_end = false;
  for (const auto& [key, item] : object) {
    const std::string name = at("schedule", key);
    if (key == "days") {
      const json::array& days = array_at(name, item);
      if (days.empty()) throw core::Invalid(name, "must name at least one day");
      schedule.days = 0;
      for (std::size_t i = 0; i < days.size(); ++i) {
        auto day = index_of(kDayNames, string_at(at(name, i), days[i]));
        if (!day) throw core::Invalid(at(name, i), one_of(kDayNames));
        auto bit = static_cast<std::uint8_t>(1U << *day);
        if ((schedule.days & bit) != 0) throw core::Invalid(at(name, i), "is listed twice");
        schedule.days = static_cast<std::uint8_t>(schedule.days | bit);
      }
    } else if (key == "start") {
      schedule.start_minute = minute_of_day_at(name, item);
      has_start = true;
    } else if (key == "end") {
      schedule.end_minute = minute_of_day_at(name, item);
      has_end = true;
    } else if (key == "timezone") {
      schedule.timezone = string_at(name, item);
      if (!is_known_zone(schedule.timezone)) {
        throw core::Invalid(name, "must be an IANA time zone name such as Europe/Berlin");
      }
    } else {
      unknown_field(name, "days, start, end, timezone");
    }
  }
  if (!has_start) throw core::Invalid("schedule.start", "is required");
  if (!has_end) throw core::Invalid("schedule.end", "is required");
  if (!is_known_zone(schedule.timezone)) {
    throw core::Invalid("schedule.timezone",
                        "the factory's time zone '" + schedule.timezone + "' is not known");
  }
  return schedule;
}

Channels parse_channels(const json::value& value) {
  const json::object& object = object_at("channels", value);
  Channels channels;
  for (const auto& [key, item] : object) {
    const std::string name = at("channels", key);
    if (key == "email") {
      const json::array& list = array_at(name, item);
      for (std::size_t i = 0; i < list.size(); ++i)
        channels.emails.push_back(string_at(at(name, i), list[i]));
    } else if (key == "whatsapp") {
      const json::array& list = array_at(name, item);
      for (std::size_t i = 0; i < list.size(); ++i)
        channels.whatsapp.push_back(string_at(at(name, i), list[i]));
    } else if (key == "in_app") {
      channels.in_app = bool_at(name, item);
    } else {
      unknown_field(name, "email, whatsapp, in_app");
    }
  }
  return channels;
}

void check_seconds(std::string_view field, std::int64_t value, std::int64_t max) {
  if (value < 0 || value > max) {
    throw core::Invalid(std::string(field), "must be between 0 and " + std::to_string(max) + " seconds");
  }
}

void validate_condition(const std::string& field, const Condition& condition) {
  if (condition.kind != ConditionKind::no_data || !condition.parameter.empty()) {
    if (!tsdb::is_valid_metric_key(condition.parameter)) {
      throw core::Invalid(at(field, "parameter"),
                          "must be a metric key of 1 to 64 characters A-Z a-z 0-9 _ . -");
    }
  }
  auto finite = [&](std::string_view key, double number) {
    if (!std::isfinite(number)) throw core::Invalid(at(field, key), "must be a finite number");
  };
  if (uses_threshold(condition.kind)) finite("threshold", condition.threshold);
  if (uses_bounds(condition.kind)) {
    finite("low", condition.low);
    finite("high", condition.high);
    if (!(condition.low < condition.high)) throw core::Invalid(at(field, "high"), "must be greater than low");
  }
  if (uses_minutes(condition.kind) && (condition.minutes < 1 || condition.minutes > kMaxWindowMinutes)) {
    throw core::Invalid(at(field, "minutes"),
                        "must be between 1 and " + std::to_string(kMaxWindowMinutes) + " (24 hours)");
  }
  if (condition.clear_threshold) {
    const std::string name = at(field, "clear_threshold");
    if (!uses_threshold(condition.kind))
      throw core::Invalid(name, "applies to threshold, window and rate only");
    finite("clear_threshold", *condition.clear_threshold);
    switch (condition.op) {
      case Comparison::gt:
      case Comparison::ge:
        if (*condition.clear_threshold > condition.threshold) {
          throw core::Invalid(name, "must not be above threshold for '>' and '>='");
        }
        break;
      case Comparison::lt:
      case Comparison::le:
        if (*condition.clear_threshold < condition.threshold) {
          throw core::Invalid(name, "must not be below threshold for '<' and '<='");
        }
        break;
      case Comparison::eq:
      case Comparison::ne: throw core::Invalid(name, "applies to > >= < <= only");
    }
  }
}

json::value condition_to_json(const Condition& condition) {
  json::object object;
  object["kind"] = condition_kind_name(condition.kind);
  if (!condition.parameter.empty()) object["parameter"] = condition.parameter;
  if (uses_threshold(condition.kind)) {
    object["op"] = comparison_symbol(condition.op);
    object["threshold"] = condition.threshold;
    if (condition.clear_threshold) object["clear_threshold"] = *condition.clear_threshold;
  }
  if (uses_bounds(condition.kind)) {
    object["low"] = condition.low;
    object["high"] = condition.high;
  }
  if (condition.kind == ConditionKind::window) object["function"] = window_function_name(condition.function);
  if (uses_minutes(condition.kind)) object["minutes"] = condition.minutes;
  return object;
}

}  // namespace

std::string_view severity_name(Severity severity) {
  return kSeverityNames.at(static_cast<std::size_t>(severity));
}

std::optional<Severity> parse_severity(std::string_view name) {
  auto index = index_of(kSeverityNames, name);
  if (!index) return std::nullopt;
  return static_cast<Severity>(*index);
}

std::string_view comparison_symbol(Comparison op) {
  return kComparisonSymbols.at(static_cast<std::size_t>(op));
}

std::optional<Comparison> parse_comparison(std::string_view symbol) {
  auto index = index_of(kComparisonSymbols, symbol);
  if (!index) return std::nullopt;
  return static_cast<Comparison>(*index);
}

bool compare(Comparison op, double value, double threshold) {
  switch (op) {
    case Comparison::gt: return value > threshold;
    case Comparison::ge: return value >= threshold;
    case Comparison::lt: return value < threshold;
    case Comparison::le: return value <= threshold;
    case Comparison::eq: return value == threshold;
    case Comparison::ne: return value != threshold;
  }
  return false;
}

std::string_view condition_kind_name(ConditionKind kind) {
  return kKindNames.at(static_cast<std::size_t>(kind));
}

std::string_view window_function_name(WindowFunction function) {
  return kFunctionNames.at(static_cast<std::size_t>(function));
}

bool is_e164(std::string_view number) {
  if (number.size() < 9 || number.size() > 16 || number[0] != '+' || number[1] < '1' || number[1] > '9') {
    return false;
  }
  return std::all_of(number.begin() + 1, number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void validate_rule(const Rule& rule) {
  if (rule.name.find_first_not_of(" \t\r\n") == std::string::npos)
    throw core::Invalid("name", "must not be empty");
  if (utf8_chars(rule.name) > kMaxNameChars) {
    throw core::Invalid("name", "must be at most " + std::to_string(kMaxNameChars) + " characters");
  }
  if (utf8_chars(rule.description) > kMaxDescriptionChars) {
    throw core::Invalid("description",
                        "must be at most " + std::to_string(kMaxDescriptionChars) + " characters");
  }

  switch (rule.scope.kind) {
    case ScopeKind::all: break;
    case ScopeKind::devices: {
      if (rule.scope.device_ids.empty())
        throw core::Invalid("scope.device_ids", "must list at least one machine");
      if (rule.scope.device_ids.size() > kMaxScopeDevices) {
        throw core::Invalid("scope.device_ids",
                            "must list at most " + std::to_string(kMaxScopeDevices) + " machines");
      }
      std::set<std::string_view> seen;
      for (std::size_t i = 0; i < rule.scope.device_ids.size(); ++i) {
        const std::string& id = rule.scope.device_ids[i];
        if (auto problem = core::slug_problem(id)) throw core::Invalid(at("scope.device_ids", i), *problem);
        if (!seen.insert(id).second) throw core::Invalid(at("scope.device_ids", i), "is listed twice");
      }
      break;
    }
    case ScopeKind::device_type:
    case ScopeKind::line: {
      const bool is_type = rule.scope.kind == ScopeKind::device_type;
      const std::string& text = is_type ? rule.scope.device_type : rule.scope.line;
      const char* field = is_type ? "scope.device_type" : "scope.line";
      if (text.empty()) throw core::Invalid(field, "is required");
      if (utf8_chars(text) > kMaxScopeTextChars) {
        throw core::Invalid(field, "must be at most " + std::to_string(kMaxScopeTextChars) + " characters");
      }
      break;
    }
  }

  if (rule.conditions.empty()) throw core::Invalid("conditions", "must hold at least one condition");
  if (rule.conditions.size() > kMaxConditions) {
    throw core::Invalid("conditions", "must hold at most " + std::to_string(kMaxConditions) + " conditions");
  }
  for (std::size_t i = 0; i < rule.conditions.size(); ++i)
    validate_condition(at("conditions", i), rule.conditions[i]);

  check_seconds("duration_seconds", rule.duration_seconds, kMaxDurationSeconds);
  check_seconds("clear_after_seconds", rule.clear_after_seconds, kMaxDurationSeconds);
  check_seconds("cooldown_seconds", rule.cooldown_seconds, kMaxCooldownSeconds);
  if (rule.repeat_seconds != 0 &&
      (rule.repeat_seconds < kMinRepeatSeconds || rule.repeat_seconds > kMaxCooldownSeconds)) {
    throw core::Invalid("repeat_seconds", "must be 0 (never) or between " +
                                              std::to_string(kMinRepeatSeconds) + " and " +
                                              std::to_string(kMaxCooldownSeconds) + " seconds");
  }

  if (rule.schedule) {
    const Schedule& schedule = *rule.schedule;
    if (schedule.days == 0 || schedule.days > 0x7F)
      throw core::Invalid("schedule.days", "must name at least one day");
    if (schedule.start_minute < 0 || schedule.start_minute >= 1440) {
      throw core::Invalid("schedule.start", "must be a local time between 00:00 and 23:59");
    }
    if (schedule.end_minute < 1 || schedule.end_minute > 1440) {
      throw core::Invalid("schedule.end", "must be a local time between 00:01 and 24:00");
    }
    if (schedule.end_minute == schedule.start_minute)
      throw core::Invalid("schedule.end", "must differ from start");
    if (!is_known_zone(schedule.timezone)) {
      throw core::Invalid("schedule.timezone", "must be an IANA time zone name such as Europe/Berlin");
    }
  }

  const Channels& channels = rule.channels;
  if (channels.emails.size() > kMaxEmails) {
    throw core::Invalid("channels.email", "must list at most " + std::to_string(kMaxEmails) + " addresses");
  }
  for (std::size_t i = 0; i < channels.emails.size(); ++i) {
    const std::string field = at("channels.email", i);
    if (users::normalize_email(field, channels.emails[i]) != channels.emails[i]) {
      throw core::Invalid(field, "must be written in lower case");
    }
    if (std::find(channels.emails.begin(), channels.emails.begin() + static_cast<std::ptrdiff_t>(i),
                  channels.emails[i]) != channels.emails.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw core::Invalid(field, "is listed twice");
    }
  }
  if (channels.whatsapp.size() > kMaxWhatsapp) {
    throw core::Invalid("channels.whatsapp",
                        "must list at most " + std::to_string(kMaxWhatsapp) + " numbers");
  }
  for (std::size_t i = 0; i < channels.whatsapp.size(); ++i) {
    const std::string field = at("channels.whatsapp", i);
    if (!is_e164(channels.whatsapp[i])) {
      throw core::Invalid(field,
                          "must be an E.164 number: '+', country code and number, e.g. +4915112345678");
    }
    if (std::find(channels.whatsapp.begin(), channels.whatsapp.begin() + static_cast<std::ptrdiff_t>(i),
                  channels.whatsapp[i]) != channels.whatsapp.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw core::Invalid(field, "is listed twice");
    }
  }
}

Rule rule_from_json(const boost::json::value& body, std::string_view factory_timezone) {
  if (!body.is_object()) throw core::Invalid("body", "must be a JSON object");
  const json::object& object = body.as_object();
  Rule rule;
  bool has_name = false, has_severity = false, has_conditions = false;
  for (const auto& [key, value] : object) {
    const std::string name(key);
    if (key == "id") {
      continue;  // the path names the rule; a body's id is what a GET returned
    } else if (key == "name") {
      rule.name = string_at(name, value);
      has_name = true;
    } else if (key == "description") {
      if (!value.is_null()) rule.description = string_at(name, value);
    } else if (key == "severity") {
      auto severity = parse_severity(string_at(name, value));
      if (!severity) throw core::Invalid(name, one_of(kSeverityNames));
      rule.severity = *severity;
      has_severity = true;
    } else if (key == "enabled") {
      rule.enabled = bool_at(name, value);
    } else if (key == "scope") {
      rule.scope = parse_scope(value);
    } else if (key == "logic") {
      std::string logic = string_at(name, value);
      if (logic == "and") {
        rule.logic = Logic::all_of;
      } else if (logic == "or") {
        rule.logic = Logic::any_of;
      } else {
        throw core::Invalid(name, "must be \"and\" or \"or\"");
      }
    } else if (key == "conditions") {
      const json::array& list = array_at(name, value);
      if (list.size() > kMaxConditions) {
        throw core::Invalid(name, "must hold at most " + std::to_string(kMaxConditions) + " conditions");
      }
      for (std::size_t i = 0; i < list.size(); ++i)
        rule.conditions.push_back(parse_condition(at(name, i), list[i]));
      has_conditions = true;
    } else if (key == "duration_seconds") {
      rule.duration_seconds = integer_at(name, value);
    } else if (key == "clear_after_seconds") {
      rule.clear_after_seconds = integer_at(name, value);
    } else if (key == "cooldown_seconds") {
      rule.cooldown_seconds = integer_at(name, value);
    } else if (key == "repeat_seconds") {
      rule.repeat_seconds = value.is_null() ? 0 : integer_at(name, value);
    } else if (key == "schedule") {
      if (!value.is_null()) rule.schedule = parse_schedule(value, factory_timezone);
    } else if (key == "channels") {
      rule.channels = parse_channels(value);
    } else {
      unknown_field(name,
                    "name, description, severity, enabled, scope, logic, conditions, duration_seconds, "
                    "clear_after_seconds, cooldown_seconds, repeat_seconds, schedule, channels");
    }
  }
  if (!has_name) throw core::Invalid("name", "is required");
  if (!has_severity) throw core::Invalid("severity", "is required");
  if (!has_conditions) throw core::Invalid("conditions", "is required");
  // Addresses are compared and stored in one spelling so duplicates are caught.
  for (std::size_t i = 0; i < rule.channels.emails.size(); ++i) {
    rule.channels.emails[i] = users::normalize_email(at("channels.email", i), rule.channels.emails[i]);
  }
  validate_rule(rule);
  // Sorted after validation, so an error names the position the client sent.
  std::sort(rule.scope.device_ids.begin(), rule.scope.device_ids.end());
  return rule;
}

Rule parse_rule(std::string_view json_text, std::string_view factory_timezone) {
  boost::system::error_code ec;
  json::value body = json::parse(json_text, ec);
  if (ec) throw core::Invalid("body", "is not valid JSON");
  return rule_from_json(body, factory_timezone);
}

Rule apply_rule_patch(const Rule& current, const boost::json::value& patch,
                      std::string_view factory_timezone) {
  if (!patch.is_object()) throw core::Invalid("body", "must be a JSON object");
  json::value merged = rule_to_json(current);
  json::object& object = merged.as_object();
  for (const auto& [key, value] : patch.as_object()) object[key] = value;
  Rule rule = rule_from_json(merged, factory_timezone);
  rule.id = current.id;
  return rule;
}

boost::json::value rule_to_json(const Rule& rule) {
  json::object object;
  if (rule.id != 0) object["id"] = rule.id;
  object["name"] = rule.name;
  object["description"] = rule.description;
  object["severity"] = severity_name(rule.severity);
  object["enabled"] = rule.enabled;
  json::object scope;
  switch (rule.scope.kind) {
    case ScopeKind::all: scope["kind"] = "all"; break;
    case ScopeKind::devices: {
      scope["kind"] = "devices";
      json::array ids;
      for (const auto& id : rule.scope.device_ids) ids.emplace_back(id);
      scope["device_ids"] = std::move(ids);
      break;
    }
    case ScopeKind::device_type:
      scope["kind"] = "type";
      scope["device_type"] = rule.scope.device_type;
      break;
    case ScopeKind::line:
      scope["kind"] = "line";
      scope["line"] = rule.scope.line;
      break;
  }
  object["scope"] = std::move(scope);
  object["logic"] = rule.logic == Logic::all_of ? "and" : "or";
  json::array conditions;
  for (const auto& condition : rule.conditions) conditions.push_back(condition_to_json(condition));
  object["conditions"] = std::move(conditions);
  object["duration_seconds"] = rule.duration_seconds;
  object["clear_after_seconds"] = rule.clear_after_seconds;
  object["cooldown_seconds"] = rule.cooldown_seconds;
  object["repeat_seconds"] = rule.repeat_seconds;
  if (rule.schedule) {
    json::object schedule;
    json::array days;
    for (std::size_t d = 0; d < kDayNames.size(); ++d) {
      if ((rule.schedule->days & (1U << d)) != 0) days.emplace_back(kDayNames[d]);
    }
    schedule["days"] = std::move(days);
    schedule["start"] = minute_of_day_text(rule.schedule->start_minute);
    schedule["end"] = minute_of_day_text(rule.schedule->end_minute);
    schedule["timezone"] = rule.schedule->timezone;
    object["schedule"] = std::move(schedule);
  } else {
    object["schedule"] = nullptr;
  }
  json::object channels;
  json::array emails;
  for (const auto& email : rule.channels.emails) emails.emplace_back(email);
  json::array whatsapp;
  for (const auto& number : rule.channels.whatsapp) whatsapp.emplace_back(number);
  channels["email"] = std::move(emails);
  channels["whatsapp"] = std::move(whatsapp);
  channels["in_app"] = rule.channels.in_app;
  object["channels"] = std::move(channels);
  return object;
}

std::string serialize_rule(const Rule& rule) {
  return json::serialize(rule_to_json(rule));
}

std::vector<std::string> referenced_parameters(const Rule& rule) {
  std::vector<std::string> keys;
  for (const auto& condition : rule.conditions) {
    if (!condition.parameter.empty()) keys.push_back(condition.parameter);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::uint64_t condition_digest(const Rule& rule) {
  json::array conditions;
  for (const auto& condition : rule.conditions) conditions.push_back(condition_to_json(condition));
  std::string text = rule.logic == Logic::all_of ? "and" : "or";
  text += json::serialize(conditions);
  // FNV-1a: stable across builds and platforms, unlike std::hash, because it is stored.
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace factoryops::rules
