// The alert rule model (docs/rules.md): what a rule watches, when it fires and clears, who
// hears about it; parsed from and serialized to the JSON of /api/v1/rules with validation that
// names the bad field. Plain value types and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::json {
class value;
}  // namespace boost::json

namespace factoryops::rules {

// Ordered: a greater value is worse, so `a > b` reads "a is worse than b".
enum class Severity : std::uint8_t { info, warning, minor, major, critical };
std::string_view severity_name(Severity severity);
std::optional<Severity> parse_severity(std::string_view name);

enum class Comparison : std::uint8_t { gt, ge, lt, le, eq, ne };
std::string_view comparison_symbol(Comparison op);  // ">", ">=", …
std::optional<Comparison> parse_comparison(std::string_view symbol);
bool compare(Comparison op, double value, double threshold);

enum class ConditionKind : std::uint8_t {
  threshold,  // parameter op threshold
  between,    // low <= parameter <= high
  outside,    // parameter < low or parameter > high
  window,     // function(parameter over the last `minutes`) op threshold
  rate,       // change of parameter per minute op threshold
  no_data,    // nothing received (of the parameter, or of the machine) for `minutes`
};
std::string_view condition_kind_name(ConditionKind kind);

enum class WindowFunction : std::uint8_t { avg, min, max, sum };
std::string_view window_function_name(WindowFunction function);

enum class Logic : std::uint8_t { all_of, any_of };  // "and", "or"

constexpr std::size_t kMaxConditions = 4;
constexpr std::size_t kMaxNameChars = 120;
constexpr std::size_t kMaxDescriptionChars = 1000;
constexpr std::int64_t kMaxWindowMinutes = 24 * 60;
constexpr std::int64_t kMaxDurationSeconds = 24 * 3600;
constexpr std::int64_t kMaxCooldownSeconds = 7 * 24 * 3600;
constexpr std::int64_t kMinRepeatSeconds = 60;
constexpr std::int64_t kDefaultClearAfterSeconds = 60;
constexpr std::int64_t kDefaultCooldownSeconds = 300;
constexpr std::size_t kMaxScopeDevices = 1000;
constexpr std::size_t kMaxEmails = 20;
constexpr std::size_t kMaxWhatsapp = 10;

struct Condition {
  ConditionKind kind = ConditionKind::threshold;
  std::string parameter{};         // a metric key; empty only for no_data (then: any data of the machine)
  Comparison op = Comparison::gt;  // threshold, window, rate
  double threshold = 0;            // threshold, window, rate (rate: units per minute)
  double low = 0;                  // between, outside
  double high = 0;                 // between, outside
  WindowFunction function = WindowFunction::avg;  // window
  // window: the window's length; no_data: the silence that makes it true. 1 … kMaxWindowMinutes.
  std::int64_t minutes = 0;
  // Hysteresis: while the rule's alert is open this replaces `threshold` (> >= < <= only), so a
  // rule firing above 75 with clear_threshold 70 stays true until the value is at or below 70.
  std::optional<double> clear_threshold{};

  friend bool operator==(const Condition&, const Condition&) = default;
};

enum class ScopeKind : std::uint8_t { all, devices, device_type, line };

struct Scope {
  ScopeKind kind = ScopeKind::all;
  std::vector<std::string> device_ids{};  // devices: sorted, unique
  std::string device_type{};              // device_type: the machines whose `type` equals it
  std::string line{};                     // line: the machines whose `line` equals it

  friend bool operator==(const Scope&, const Scope&) = default;
};

// Active on `days` (bit 0 = Monday … bit 6 = Sunday) from start_minute to end_minute of the
// local day in `timezone`. end_minute <= start_minute spans midnight: the window belongs to the
// day it starts on (Friday 22:00–06:00 runs into Saturday morning).
struct Schedule {
  std::uint8_t days = 0x7F;
  int start_minute = 0;   // 0 … 1439
  int end_minute = 1440;  // 1 … 1440
  std::string timezone = "UTC";

  friend bool operator==(const Schedule&, const Schedule&) = default;
};

struct Channels {
  std::vector<std::string> emails{};    // normalised (lower case), unique
  std::vector<std::string> whatsapp{};  // E.164: +, then 8 to 15 digits, unique
  bool in_app = true;

  friend bool operator==(const Channels&, const Channels&) = default;
};

struct Rule {
  std::int64_t id = 0;  // assigned by the repository; 0 until stored
  std::string name{};
  std::string description{};
  Severity severity = Severity::warning;
  bool enabled = true;
  Scope scope{};
  Logic logic = Logic::all_of;
  std::vector<Condition> conditions{};  // 1 … kMaxConditions
  std::int64_t duration_seconds = 0;    // the condition holds this long before the rule fires
  std::int64_t clear_after_seconds = kDefaultClearAfterSeconds;  // false this long clears
  std::int64_t cooldown_seconds = kDefaultCooldownSeconds;       // least time between notifications
  std::int64_t repeat_seconds = 0;  // 0: notify once; else remind this often while firing
  std::optional<Schedule> schedule{};
  Channels channels{};

  friend bool operator==(const Rule&, const Rule&) = default;
};

// Parses and validates a rule body (the JSON of POST /api/v1/rules; "id" is not read). Throws
// core::Invalid naming the field, e.g. "conditions[1].threshold", and why. `factory_timezone`
// is the schedule's zone when the body names none. Unknown fields are refused.
Rule rule_from_json(const boost::json::value& body, std::string_view factory_timezone);
// Same, from JSON text; core::Invalid("body", …) when it is not JSON.
Rule parse_rule(std::string_view json_text, std::string_view factory_timezone);

// PATCH: the fields present in `patch` (a JSON object) replace those of `current`, whole (a
// patch with "conditions" replaces the list); the result is validated like a new body and keeps
// current.id. core::Invalid naming the field.
Rule apply_rule_patch(const Rule& current, const boost::json::value& patch,
                      std::string_view factory_timezone);

// The body form of `rule` (with "id" when it is non-zero); rule_from_json reads it back equal.
boost::json::value rule_to_json(const Rule& rule);
std::string serialize_rule(const Rule& rule);

// Checks a rule built in code against the same limits as rule_from_json; core::Invalid.
void validate_rule(const Rule& rule);

// The metric keys the rule's conditions read, sorted and unique.
std::vector<std::string> referenced_parameters(const Rule& rule);

// A stable digest of what decides the rule's truth (logic and conditions): evaluation state kept
// under one digest is meaningless under another.
std::uint64_t condition_digest(const Rule& rule);

// E.164 as WhatsApp accepts it: '+', a non-zero digit, 7 to 14 more digits.
bool is_e164(std::string_view number);

}  // namespace factoryops::rules
