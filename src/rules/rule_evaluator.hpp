// The stateful rule evaluator of one factory: feeds machines' readings through the factory's
// enabled rules and emits alert transitions (fire, escalate, renotify, clear), keeping per
// (rule, machine) condition state that can be saved and restored across restarts. Pure logic:
// no clock, I/O or locks of its own. Not thread-safe: one owner (shard by machine to scale).
//
// Time: readings drive transitions at their own timestamps (event time); tick(now) lets the
// caller's clock drive no-data conditions. A reading older than the last one a (rule, machine)
// has evaluated still feeds window aggregates but changes no state. Transitions are emitted, not
// stored: the alert store enforces one open alert per (rule, machine), so two evaluators fed the
// same readings emit the same fire (same rule, machine, started_at) and only one alert opens.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.hpp"
#include "rules/rule.hpp"
#include "tsdb/store.hpp"

namespace factoryops::rules {

// What scopes need to know about a machine (devices::Device's type and line; '' when unset).
struct DeviceProfile {
  std::string device_id;
  std::string type{};
  std::string line{};
};

enum class EventKind : std::uint8_t {
  fire,      // the rule became true for the machine (after its duration): open an alert
  escalate,  // the rule's severity was raised while its alert is open
  renotify,  // still firing after repeat_seconds since the last notification
  clear,     // false for clear_after_seconds (with hysteresis): resolve the alert
};
std::string_view event_kind_name(EventKind kind);

struct Event {
  EventKind kind = EventKind::fire;
  std::int64_t rule_id = 0;
  std::string device_id{};
  Severity severity = Severity::info;  // the rule's severity at the event
  // The condition that decided: for fire, renotify and escalate the first true one; for clear
  // the first condition. `parameter` is '' for a machine-wide no_data condition.
  std::size_t condition = 0;
  std::string parameter{};
  double value = 0;                // its value at the event (window: the aggregate; rate: per minute;
                                   // no_data: seconds without data)
  double threshold = 0;            // what it was compared with (between: low; outside: the bound crossed;
                                   // no_data: the silence in seconds)
  std::int64_t started_at_ms = 0;  // when the condition became true: identifies the episode
  std::int64_t at_ms = 0;          // when this transition happened (reading time or tick time)
  // fire, escalate, renotify: whether to notify now. A fire within cooldown_seconds of the
  // previous notification for the same (rule, machine) opens the alert silently.
  bool notify = false;
};

// An alert the evaluator considers open.
struct OpenState {
  std::int64_t rule_id = 0;
  std::string device_id{};
  Severity severity = Severity::info;
  std::int64_t started_at_ms = 0;
  std::int64_t opened_at_ms = 0;
};

struct EvaluatorStats {
  std::uint64_t readings = 0;               // readings of machines with at least one rule
  std::uint64_t condition_evaluations = 0;  // single conditions computed
  std::uint64_t rule_evaluations = 0;       // (rule, machine) decisions taken
  std::uint64_t late_readings = 0;          // parameter values older than the newest seen
};

class RuleEvaluator {
 public:
  explicit RuleEvaluator(core::FactoryId factory);
  ~RuleEvaluator();
  RuleEvaluator(const RuleEvaluator&) = delete;
  RuleEvaluator& operator=(const RuleEvaluator&) = delete;
  RuleEvaluator(RuleEvaluator&&) noexcept;
  RuleEvaluator& operator=(RuleEvaluator&&) noexcept;

  const core::FactoryId& factory() const;

  // The factory's rules (disabled ones are kept out of evaluation, and their state dropped).
  // State of a rule whose logic and conditions are unchanged survives; a rule whose conditions
  // changed keeps only whether its alert is open and when it last notified. Rules need ids
  // (non-zero, unique); core::Invalid otherwise, or when a rule fails validate_rule.
  void set_rules(std::vector<Rule> rules);
  void upsert_rule(Rule rule);
  void remove_rule(std::int64_t rule_id);

  // Machines and their type and line, for type and line scopes and for no-data rules of machines
  // that never reported. A machine that reports without being listed counts with no type or line.
  void set_devices(std::vector<DeviceProfile> devices);
  void upsert_device(DeviceProfile device);
  void remove_device(std::string_view device_id);

  // One machine's readings (any order; evaluated oldest first). Appends transitions to `out`.
  // core::Invalid("factory_id", …) for another factory's batch.
  void evaluate(const tsdb::DeviceBatch& batch, std::vector<Event>& out);
  void evaluate(std::string_view device_id, std::int64_t ts_ms, std::span<const tsdb::Field> fields,
                std::vector<Event>& out);

  // The clock: evaluates the rules with no_data conditions at `now_ms` for every known machine.
  void tick(std::int64_t now_ms, std::vector<Event>& out);

  // Tells the evaluator the alert was resolved elsewhere (by hand): the next episode needs the
  // condition to hold for the full duration again.
  void mark_resolved(std::int64_t rule_id, std::string_view device_id);

  std::vector<OpenState> open_states() const;
  EvaluatorStats stats() const;

  // Compact JSON of the evaluation state: everything (save_state) or one machine's part
  // (nullopt for an unknown machine). Restore after set_rules and set_devices; state of rules
  // or parameters no longer present is ignored. A restored machine's state is replaced whole
  // (what the text does not mention starts empty), so loading a machine's saved state before
  // each batch is safe. core::Invalid("state", …) for malformed text.
  std::string save_state() const;
  std::optional<std::string> save_device_state(std::string_view device_id) const;
  void restore_state(std::string_view text);
  void restore_device_state(std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factoryops::rules
