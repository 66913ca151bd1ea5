#include "tsdb/retention_scheduler.hpp"

#include "core/logging.hpp"

namespace factoryops::tsdb {

RetentionScheduler::RetentionScheduler(TelemetryStore& store, PolicySource policies,
                                       std::chrono::milliseconds period, Clock now_ms)
    : store_(store), policies_(std::move(policies)), period_(period), now_ms_(std::move(now_ms)) {}

RetentionScheduler::~RetentionScheduler() {
  stop();
}

void RetentionScheduler::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void RetentionScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::int64_t RetentionScheduler::cycles() const {
  std::lock_guard lock(mutex_);
  return cycles_;
}

RetentionRun RetentionScheduler::run_once() {
  RetentionRun run;
  std::vector<std::pair<core::FactoryId, RetentionPolicy>> policies;
  try {
    policies = policies_();
  } catch (const std::exception& e) {
    log::error("retention: cannot read the factories' policies; retrying next cycle",
               {{"error", std::string_view(e.what())}});
    run.failures = 1;
    return run;
  } catch (...) {
    log::error("retention: cannot read the factories' policies; retrying next cycle");
    run.failures = 1;
    return run;
  }
  std::int64_t now = 0;
  if (now_ms_) {
    now = now_ms_();
  } else {
    using namespace std::chrono;
    now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  for (const auto& [factory, policy] : policies) {
    const auto started = std::chrono::steady_clock::now();
    try {
      store_.apply_retention(factory, policy, now);
      ++run.factories;
      const auto took =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      log::info("retention applied", {{"factory_id", factory.str()},
                                      {"raw_days", policy.raw_days},
                                      {"rollup_days", policy.rollup_days},
                                      {"duration_ms", static_cast<std::int64_t>(took.count())}});
    } catch (const std::exception& e) {
      ++run.failures;
      log::error("retention failed; retrying next cycle",
                 {{"factory_id", factory.str()}, {"error", std::string_view(e.what())}});
    } catch (...) {
      ++run.failures;
      log::error("retention failed; retrying next cycle", {{"factory_id", factory.str()}});
    }
  }
  log::info("retention cycle finished", {{"factories", run.factories}, {"failures", run.failures}});
  return run;
}

void RetentionScheduler::loop() {
  while (true) {
    run_once();
    std::unique_lock lock(mutex_);
    ++cycles_;
    wake_.notify_all();
    if (wake_.wait_for(lock, period_, [this] { return stopping_; })) return;
  }
}

}  // namespace factoryops::tsdb
