// The scheduler role's beat for the rule engine: every `period` it puts one `rules.tick` job per
// factory with an enabled no-data rule on the rule-engine queue, and the rule engine answers it
// by evaluating that factory's no-data rules at the time it runs (RuleEngine::tick_job). Several
// schedulers may run: a repeated tick finds nothing new. A failure (metadata store or queue
// down) is logged and retried next beat. start/stop are for the owning thread; run_once is
// thread-safe. The Database and JobQueue must outlive the scheduler.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "db/database.hpp"
#include "queue/job_queue.hpp"

namespace factoryops::rules {

inline constexpr std::string_view kTickTask = "rules.tick";
// No-data conditions count in minutes; a beat of 10 s is a sixth of the shortest.
inline constexpr std::chrono::milliseconds kTickPeriod = std::chrono::seconds(10);

struct TickRun {
  int enqueued = 0;  // factories ticked
  int failures = 0;  // 1 when the factories could not be read, plus jobs the queue refused
};

class RuleScheduler {
 public:
  RuleScheduler(db::Database& database, queue::JobQueue& jobs,
                std::chrono::milliseconds period = kTickPeriod);
  ~RuleScheduler();
  RuleScheduler(const RuleScheduler&) = delete;
  RuleScheduler& operator=(const RuleScheduler&) = delete;

  // Starts the thread; its first beat comes after one period.
  void start();
  void stop();

  // One beat at `now_ms`: a `rules.tick` job for each factory with an enabled no-data rule.
  // Never throws.
  TickRun run_once(std::int64_t now_ms);

 private:
  void loop();

  db::Database& database_;
  queue::JobQueue& jobs_;
  const std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace factoryops::rules
