// The worker on the embedded SQL queue (SQLite in memory) with an injected clock: dispatch by
// task, ack, retries, permanent failures, jobs it must refuse, metrics, and clean stop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/errors.hpp"
#include "core/metrics.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "queue/failover_queue.hpp"
#include "queue/sql_queue.hpp"
#include "queue/worker.hpp"

namespace factoryops::queue {
namespace {

class WorkerTest : public ::testing::Test {
 protected:
  WorkerTest() : database_(db::Database::open("sqlite::memory:")) {
    db::migrate(*database_);
    QueueOptions options;
    options.clock = [this] { return now_.load(); };
    options.retry_base = std::chrono::seconds(10);
    queue_ = std::make_unique<SqlQueue>(*database_, options);
  }

  Worker make_worker(int threads = 1) {
    WorkerOptions options;
    options.queues = {"rule-engine", "notifications"};
    options.threads = threads;
    options.idle_wait = std::chrono::milliseconds(10);
    options.name = "test";
    return Worker(*queue_, options);
  }

  static double task_count(const std::string& task) {
    auto& family = core::metrics::Registry::global().histogram("celery_task_duration_seconds", "", {"task"});
    return static_cast<double>(family.labels({task}).snapshot().count);
  }

  static double outcomes(const std::string& queue, const std::string& task, const std::string& outcome) {
    return core::metrics::Registry::global()
        .counter("jobs_processed_total", "", {"queue", "task", "outcome"})
        .labels({queue, task, outcome})
        .value();
  }

  std::atomic<std::int64_t> now_{1'800'000'000'000};
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<SqlQueue> queue_;
};

TEST_F(WorkerTest, DispatchesByTaskAcksAndRecordsTheDuration) {
  Worker worker = make_worker();
  std::vector<std::string> seen;
  worker.on("evaluate",
            [&](const Job& job) { seen.push_back("evaluate:" + job.payload + ":" + job.factory_id); });
  worker.on("send_email", [&](const Job& job) { seen.push_back("email:" + job.request_id); });
  const double before = task_count("evaluate");
  const double succeeded_before = outcomes("rule-engine", "evaluate", "succeeded");

  queue_->enqueue(make_job("rule-engine", "evaluate", "acme-pune", "req-1", R"({"kw":80})"));
  queue_->enqueue(make_job("notifications", "send_email", "acme-pune", "req-2", "{}"));
  EXPECT_TRUE(worker.run_one("rule-engine", "c"));
  EXPECT_TRUE(worker.run_one("notifications", "c"));
  EXPECT_FALSE(worker.run_one("rule-engine", "c"));
  EXPECT_EQ(seen, (std::vector<std::string>{R"(evaluate:{"kw":80}:acme-pune)", "email:req-2"}));
  EXPECT_EQ(queue_->depth("rule-engine"), 0);
  EXPECT_EQ(queue_->depth("notifications"), 0);
  EXPECT_EQ(task_count("evaluate"), before + 1);
  EXPECT_EQ(outcomes("rule-engine", "evaluate", "succeeded"), succeeded_before + 1);
}

TEST_F(WorkerTest, AThrowingHandlerIsRetriedWithBackoffThenDeadLettered) {
  Worker worker = make_worker();
  int runs = 0;
  worker.on("send_whatsapp", [&](const Job& job) {
    ++runs;
    EXPECT_EQ(job.attempts, runs);
    throw std::runtime_error("twilio answered 503");
  });
  const std::string id =
      queue_->enqueue(make_job("notifications", "send_whatsapp", "acme-pune", "req-3", "{}"));
  EXPECT_TRUE(worker.run_one("notifications", "c"));
  EXPECT_FALSE(worker.run_one("notifications", "c")) << "retried before its backoff";
  for (std::int64_t delay : {10'000, 20'000, 40'000}) {
    now_ += delay;
    EXPECT_TRUE(worker.run_one("notifications", "c"));
  }
  now_ += 3'600'000;
  EXPECT_FALSE(worker.run_one("notifications", "c"));
  EXPECT_EQ(runs, kMaxAttempts);
  auto dead = queue_->dead_letters(DeadLetterQuery{std::nullopt, "notifications", 10});
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].job.id, id);
  EXPECT_EQ(dead[0].job.last_error, "twilio answered 503");
}

TEST_F(WorkerTest, InvalidFromAHandlerDeadLettersAtOnce) {
  Worker worker = make_worker();
  int runs = 0;
  worker.on("evaluate", [&](const Job&) {
    ++runs;
    throw core::Invalid("payload.device_id", "unknown device");
  });
  queue_->enqueue(make_job("rule-engine", "evaluate", "acme-pune", "req-4", "{}"));
  EXPECT_TRUE(worker.run_one("rule-engine", "c"));
  now_ += 3'600'000;
  EXPECT_FALSE(worker.run_one("rule-engine", "c"));
  EXPECT_EQ(runs, 1);
  auto dead = queue_->dead_letters(DeadLetterQuery{std::nullopt, "rule-engine", 10});
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].job.last_error, "payload.device_id: unknown device");
}

TEST_F(WorkerTest, JobsWithoutAValidFactoryOrRequestIdOrAHandlerNeverRun) {
  Worker worker = make_worker();
  int runs = 0;
  worker.on("evaluate", [&](const Job&) { ++runs; });
  // Rows written past enqueue's checks (another version, a hand edit) are re-checked.
  for (auto [factory, request] : {std::pair{"Not A Slug", "req-5"}, std::pair{"acme-pune", "bad id"}}) {
    database_->acquire()->execute(
        "INSERT INTO jobs (queue, task, factory_id, request_id, payload, state, attempts, available_at, "
        "enqueued_at, updated_at) VALUES ('rule-engine', 'evaluate', ?, ?, '{}', 'pending', 0, 0, 0, 0)",
        {factory, request});
  }
  queue_->enqueue(make_job("rule-engine", "no_such_task", "acme-pune", "req-6", "{}"));
  const double rejected_before = outcomes("rule-engine", "evaluate", "rejected");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(worker.run_one("rule-engine", "c"));
  now_ += 3'600'000;
  EXPECT_FALSE(worker.run_one("rule-engine", "c"));
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(outcomes("rule-engine", "evaluate", "rejected"), rejected_before + 2);
  EXPECT_EQ(outcomes("rule-engine", "no_such_task", "rejected"), 0) << "unknown tasks share one label";
  EXPECT_GE(outcomes("rule-engine", "unknown", "rejected"), 1);
  std::set<std::string> errors;
  for (const auto& dead : queue_->dead_letters(DeadLetterQuery{std::nullopt, "rule-engine", 10}))
    errors.insert(dead.job.last_error);
  EXPECT_EQ(errors, (std::set<std::string>{"invalid factory_id", "invalid request_id",
                                           "no handler for task 'no_such_task' on this worker"}));
}

TEST_F(WorkerTest, ThreadsDrainTheQueuesAndStopWaitsForRunningHandlers) {
  Worker worker = make_worker(3);
  std::mutex mutex;
  std::multiset<std::string> done;
  std::atomic<bool> in_handler{false};
  worker.on("evaluate", [&](const Job& job) {
    in_handler = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard lock(mutex);
    done.insert(job.id);
    in_handler = false;
  });
  std::set<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    ids.insert(queue_->enqueue(make_job(i % 2 ? "rule-engine" : "notifications", "evaluate", "acme-pune",
                                        "req-" + std::to_string(i), "{}")));
  }
  worker.start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex);
      if (done.size() >= ids.size()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  worker.stop();
  EXPECT_FALSE(in_handler.load());
  std::lock_guard lock(mutex);
  EXPECT_EQ(std::set<std::string>(done.begin(), done.end()), ids);
  EXPECT_EQ(done.size(), ids.size()) << "a job ran twice";
  worker.stop();  // idempotent
}

// A primary that is down: every call fails the way RedisQueue does when Redis does not answer.
class DownQueue final : public JobQueue {
 public:
  std::string_view backend() const override { return "down"; }
  std::string enqueue(const Job&) override { throw core::Unavailable("down"); }
  std::optional<Job> claim(std::string_view, std::string_view) override { throw core::Unavailable("down"); }
  void ack(const Job&) override { throw core::Unavailable("down"); }
  FailOutcome fail(const Job&, std::string_view, bool) override { throw core::Unavailable("down"); }
  std::vector<DeadJob> dead_letters(const DeadLetterQuery&) override { throw core::Unavailable("down"); }
  bool requeue_dead(const std::optional<core::FactoryId>&, std::string_view) override {
    throw core::Unavailable("down");
  }
  bool delete_dead(const std::optional<core::FactoryId>&, std::string_view) override {
    throw core::Unavailable("down");
  }
  std::int64_t depth(std::string_view) override { throw core::Unavailable("down"); }
};

TEST_F(WorkerTest, FailoverUsesTheFallbackForEverythingWhileThePrimaryIsDown) {
  DownQueue down;
  FailoverQueue failover(down, *queue_);
  const std::string id =
      failover.enqueue(make_job("notifications", "send_email", "acme-pune", "req-7", "{}"));
  EXPECT_EQ(queue_->depth("notifications"), 1);
  EXPECT_EQ(failover.depth("notifications"), 1);
  EXPECT_THROW(failover.enqueue(make_job("notifications", "send_email", "", "req-7", "{}")), core::Invalid);

  auto first = failover.claim("notifications", "c");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, id);
  EXPECT_EQ(failover.fail(*first, "smtp down", false), FailOutcome::retry_scheduled);
  now_ += 10'000;
  auto second = failover.claim("notifications", "c");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->attempts, 2);
  EXPECT_EQ(failover.fail(*second, "bad address", true), FailOutcome::dead_lettered);
  ASSERT_EQ(failover.dead_letters(DeadLetterQuery{std::nullopt, "notifications", 10}).size(), 1u);
  // Not the fallback's for that factory, and the primary cannot say: unknown, not "not found".
  EXPECT_THROW(failover.requeue_dead(core::FactoryId("globex"), id), core::Unavailable);
  EXPECT_TRUE(failover.requeue_dead(core::FactoryId("acme-pune"), id));
  auto third = failover.claim("notifications", "c");
  ASSERT_TRUE(third.has_value());
  failover.ack(*third);
  EXPECT_EQ(failover.depth("notifications"), 0);
}

}  // namespace
}  // namespace factoryops::queue
