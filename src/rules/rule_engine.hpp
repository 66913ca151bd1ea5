// The rule-engine role: runs `rules.evaluate` jobs (stored readings of one factory) through that
// factory's RuleEvaluator, turns its transitions into alerts (AlertService) and notification jobs
// (`notify.alert` on the notifications queue), runs no-data rules on the scheduler's beat, and saves
// each machine's evaluation state in rule_states so a restart carries on. Rules and machines are
// re-read when they change (checked at most every few seconds). Thread-safe behind one lock;
// the Database, AlertService and JobQueue must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "alerts/alert_service.hpp"
#include "db/database.hpp"
#include "queue/job_queue.hpp"
#include "rules/rule.hpp"
#include "rules/rule_evaluator.hpp"

namespace factoryops::rules {

inline constexpr std::string_view kNotifyTask = "notify.alert";

class RuleEngine {
 public:
  struct Options {
    std::chrono::milliseconds reload_check{std::chrono::seconds(5)};  // how stale rules may be
    std::chrono::milliseconds save_every{std::chrono::seconds(5)};    // machine states
  };

  RuleEngine(db::Database& database, alerts::AlertService& alerts, queue::JobQueue& jobs);
  RuleEngine(db::Database& database, alerts::AlertService& alerts, queue::JobQueue& jobs, Options options);
  ~RuleEngine();
  RuleEngine(const RuleEngine&) = delete;
  RuleEngine& operator=(const RuleEngine&) = delete;

  // The handler of `rules.evaluate` jobs. core::Invalid for a malformed payload (not retried).
  void evaluate_job(const queue::Job& job);

  // The handler of `rules.tick` jobs (the scheduler role's beat, rules/rule_scheduler.hpp): the
  // job's factory's no-data rules at `now_ms` (the time it runs). A tick queued more than a
  // minute before it runs is skipped: a newer one follows. core::Invalid for a malformed payload.
  void tick_job(const queue::Job& job, std::int64_t now_ms);

  // Upkeep of this process, every few seconds: alerts resolved by a person are forgotten by the
  // evaluators (the condition must then hold a full duration again), states saved.
  void housekeep();

  // Saves the evaluation state of every machine that changed since the last save.
  void save_states();

 private:
  struct Factory;
  Factory& factory_locked(const core::FactoryId& id);
  void refresh_locked(Factory& factory, bool force);
  void forget_resolved_locked(Factory& factory);
  void handle_events_locked(Factory& factory, std::vector<Event>& events);
  void enqueue_notifications_locked(Factory& factory, const Rule& rule, const alerts::Alert& alert,
                                    std::string_view event);
  void save_states_locked();

  db::Database& database_;
  alerts::AlertService& alerts_;
  queue::JobQueue& jobs_;
  const Options options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Factory>> factories_;
  std::chrono::steady_clock::time_point last_save_;
};

}  // namespace factoryops::rules
