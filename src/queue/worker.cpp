#include "queue/worker.hpp"

#include <unistd.h>

#include <array>

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "http/request_id.hpp"

namespace factoryops::queue {
namespace {

core::metrics::HistogramFamily& duration_family() {
  // Jobs range from a rule evaluation (milliseconds) to a report (minutes).
  static auto& family = core::metrics::Registry::global().histogram(
      "celery_task_duration_seconds", "Time a worker spent running one job, by task", {"task"},
      {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300});
  return family;
}

core::metrics::CounterFamily& outcome_family() {
  static auto& family = core::metrics::Registry::global().counter(
      "jobs_processed_total",
      "Job deliveries run by workers, by outcome: succeeded, retried, dead, stale (no longer ours), "
      "rejected (bad factory_id/request_id or unknown task)",
      {"queue", "task", "outcome"});
  return family;
}

std::string default_name() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return std::string(host.data()) + "-" + std::to_string(getpid());
}

}  // namespace

Worker::Worker(JobQueue& queue, WorkerOptions options) : queue_(queue), options_(std::move(options)) {
  if (options_.threads < 1) throw core::Invalid("threads", "must be at least 1");
  if (options_.queues.empty()) throw core::Invalid("queues", "name at least one queue");
  for (const auto& name : options_.queues) core::validate_slug("queue", name);
  if (options_.name.empty()) options_.name = default_name();
}

Worker::~Worker() {
  stop();
}

void Worker::on(std::string task, Handler handler) {
  handlers_[std::move(task)] = std::move(handler);
}

void Worker::start() {
  std::lock_guard lock(mutex_);
  if (!threads_.empty()) return;
  stopping_ = false;
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this, i] { loop(i); });
  log::info("worker started", {{"consumer", options_.name},
                               {"threads", options_.threads},
                               {"backend", queue_.backend()},
                               {"queues", static_cast<std::int64_t>(options_.queues.size())}});
}

void Worker::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (auto& t : threads) t.join();
  if (!threads.empty()) log::info("worker stopped", {{"consumer", options_.name}});
}

void Worker::loop(int index) {
  const std::string consumer = options_.name + "-" + std::to_string(index);
  std::size_t next = static_cast<std::size_t>(index);  // threads start on different queues
  std::uint64_t failing_rounds = 0;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    bool ran = false;
    bool failed = false;
    for (std::size_t i = 0; i < options_.queues.size(); ++i) {
      const std::string& name = options_.queues[(next + i) % options_.queues.size()];
      try {
        ran = run_one(name, consumer) || ran;
      } catch (const std::exception& e) {
        // A backend that is down fails every round: log when it starts, then every 100th round.
        if (failing_rounds % 100 == 0) {
          log::warn("worker: queue not answering",
                    {{"queue", name}, {"consumer", consumer}, {"error", e.what()}});
        }
        failed = true;
      }
    }
    failing_rounds = failed ? failing_rounds + 1 : 0;
    ++next;
    if (!ran) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.idle_wait, [this] { return stopping_; });
    }
  }
  // A stopped process leaves no consumer behind in the backends that list them.
  for (const auto& name : options_.queues) queue_.retire_consumer(name, consumer);
}

bool Worker::run_one(std::string_view queue, std::string_view consumer) {
  auto job = queue_.claim(queue, consumer);
  if (!job) return false;
  process(std::move(*job));
  return true;
}

void Worker::process(Job job) {
  // An invalid request id is not propagated into the log scope (it could be anything).
  log::RequestIdScope scope(http::is_valid_request_id(job.request_id) ? job.request_id : "invalid");
  // Only registered task names become label values: a job naming some other task must not
  // create a series of its own.
  const bool known_task = handlers_.count(job.task) != 0;
  auto count = [&](std::string_view outcome) {
    outcome_family().labels({job.queue, known_task ? std::string_view(job.task) : "unknown", outcome}).inc();
  };
  // `rejected`: the job itself is unusable (counted as such, not as a plain failure).
  auto finish_failed = [&](std::string_view why, bool permanent, bool rejected) {
    FailOutcome outcome;
    try {
      outcome = queue_.fail(job, why, permanent);
    } catch (const std::exception& e) {
      // The delivery stays claimed and comes back after the visibility timeout.
      log::error("job failure not recorded", {{"factory_id", job.factory_id},
                                              {"request_id", job.request_id},
                                              {"job_id", job.id},
                                              {"task", job.task},
                                              {"error", e.what()}});
      return;
    }
    count(rejected ? "rejected" : fail_outcome_name(outcome));
    auto level = outcome == FailOutcome::dead_lettered ? log::Level::error : log::Level::warn;
    log::write(level, outcome == FailOutcome::dead_lettered ? "job dead-lettered" : "job failed",
               {{"factory_id", job.factory_id},
                {"request_id", job.request_id},
                {"queue", job.queue},
                {"task", job.task},
                {"job_id", job.id},
                {"attempt", job.attempts},
                {"outcome", fail_outcome_name(outcome)},
                {"error", why}});
  };

  // Jobs are re-checked here, not only on enqueue: a row or entry may have been written by
  // another version or by hand, and a job must never run without knowing its factory.
  if (!core::is_valid_slug(job.factory_id)) {
    finish_failed("invalid factory_id", true, true);
    return;
  }
  if (!http::is_valid_request_id(job.request_id)) {
    finish_failed("invalid request_id", true, true);
    return;
  }
  auto handler = handlers_.find(job.task);
  if (handler == handlers_.end()) {
    finish_failed("no handler for task '" + job.task + "' on this worker", true, true);
    return;
  }

  const auto started = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  try {
    handler->second(job);
  } catch (const core::Invalid& e) {
    duration_family().labels({job.task}).observe(seconds());
    finish_failed(e.what(), true, false);
    return;
  } catch (const std::exception& e) {
    duration_family().labels({job.task}).observe(seconds());
    finish_failed(e.what(), false, false);
    return;
  } catch (...) {
    // Whatever a handler throws, the job is finished one way or the other and the thread lives.
    duration_family().labels({job.task}).observe(seconds());
    finish_failed("the handler threw something other than an exception", false, false);
    return;
  }
  const double elapsed = seconds();
  duration_family().labels({job.task}).observe(elapsed);
  try {
    queue_.ack(job);
  } catch (const std::exception& e) {
    // The job ran; it will run again after the visibility timeout (handlers are idempotent).
    log::warn("job ran but its acknowledgement was lost", {{"factory_id", job.factory_id},
                                                           {"request_id", job.request_id},
                                                           {"job_id", job.id},
                                                           {"task", job.task},
                                                           {"error", e.what()}});
    return;
  }
  count("succeeded");
  log::info("job done", {{"factory_id", job.factory_id},
                         {"request_id", job.request_id},
                         {"queue", job.queue},
                         {"task", job.task},
                         {"job_id", job.id},
                         {"attempt", job.attempts},
                         {"duration_ms", static_cast<std::int64_t>(elapsed * 1000)}});
}

}  // namespace factoryops::queue
