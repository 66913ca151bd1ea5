#include "rules/rule_scheduler.hpp"

#include <boost/json.hpp>

#include "core/logging.hpp"
#include "db/clock.hpp"
#include "http/request_id.hpp"

namespace factoryops::rules {
namespace json = boost::json;

RuleScheduler::RuleScheduler(db::Database& database, queue::JobQueue& jobs, std::chrono::milliseconds period)
    : database_(database), jobs_(jobs), period_(period) {}

RuleScheduler::~RuleScheduler() {
  stop();
}

void RuleScheduler::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void RuleScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

TickRun RuleScheduler::run_once(std::int64_t now_ms) {
  TickRun run;
  std::vector<std::string> factories;
  try {
    auto conn = database_.acquire();
    // Rule definitions are JSON documents; a no-data condition is the only one with this kind.
    for (const auto& row : conn->query("SELECT DISTINCT factory_id FROM rules WHERE is_enabled = 1 AND "
                                       "definition LIKE '%\"no_data\"%' ORDER BY factory_id"))
      factories.push_back(row.get_string(0));
  } catch (const std::exception& e) {
    log::warn("rule scheduler cannot read the rules; retrying next beat",
              {{"error", std::string_view(e.what())}});
    run.failures = 1;
    return run;
  }
  json::object payload;
  payload["scheduled_at"] = now_ms;
  const std::string text = json::serialize(payload);
  for (const auto& factory : factories) {
    try {
      jobs_.enqueue(
          queue::make_job(queue::kRuleEngineQueue, kTickTask, factory, http::generate_request_id(), text));
      ++run.enqueued;
    } catch (const std::exception& e) {
      ++run.failures;
      log::warn("rule tick not queued; retrying next beat",
                {{"factory_id", factory}, {"error", std::string_view(e.what())}});
    }
  }
  return run;
}

void RuleScheduler::loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
    lock.unlock();
    run_once(db::now_ms());
    lock.lock();
  }
}

}  // namespace factoryops::rules
