// The behaviour every JobQueue backend owes the workers, written against the interface only.
// A backend's test file includes this header in exactly ONE translation unit of its test
// executable and instantiates the suite:
//
//   INSTANTIATE_TEST_SUITE_P(Sql, JobQueueConformance,
//                            ::testing::Values(QueueConformanceParam{"sqlite", open}),
//                            conformance_param_name);
//
// Tests use their own random queue names, so queues may share their storage across tests.
// Timing uses an injected clock; the visibility timeout is also waited for in real time
// (briefly), because Redis measures a delivery's idle time with its own clock.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/errors.hpp"
#include "queue/job_queue.hpp"

namespace factoryops::queue::conformance {

struct QueueConformanceParam {
  std::string name;  // the instantiation's name: [A-Za-z0-9_]
  // Opens a queue over the backend's storage (the same storage on every call).
  std::function<std::unique_ptr<JobQueue>(const QueueOptions&)> open;
};

inline void PrintTo(const QueueConformanceParam& param, std::ostream* os) {
  *os << param.name;
}

inline std::string conformance_param_name(const ::testing::TestParamInfo<QueueConformanceParam>& param) {
  return param.param.name;
}

// A clock the test moves by hand; copies share the time.
class FakeClock {
 public:
  FakeClock() : ms_(std::make_shared<std::atomic<std::int64_t>>(1'800'000'000'000)) {}
  Clock clock() const {
    return [ms = ms_] { return ms->load(); };
  }
  void advance(std::chrono::milliseconds by) { ms_->fetch_add(by.count()); }
  std::int64_t now() const { return ms_->load(); }

 private:
  std::shared_ptr<std::atomic<std::int64_t>> ms_;
};

class JobQueueConformance : public ::testing::TestWithParam<QueueConformanceParam> {
 protected:
  static constexpr std::chrono::milliseconds kRetryBase{10'000};
  static constexpr std::chrono::milliseconds kShortVisibility{300};

  void SetUp() override { queue_ = open(std::chrono::minutes(5)); }

  std::unique_ptr<JobQueue> open(std::chrono::milliseconds visibility) {
    QueueOptions options;
    options.visibility_timeout = visibility;
    options.retry_base = kRetryBase;
    options.clock = clock_.clock();
    return GetParam().open(options);
  }

  // A queue name no other test (or earlier run over the same storage) uses.
  static std::string fresh_queue(const std::string& prefix = "q") {
    static std::mt19937_64 rng{std::random_device{}()};
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    return prefix + "-" + std::to_string(rng() % 1'000'000'000'000ULL);
  }

  static Job job_for(const std::string& queue, const std::string& payload = R"({"n":1})") {
    return make_job(queue, "evaluate", "acme-pune", "req-0001", payload);
  }

  // Lets a claimed delivery's visibility timeout pass, by the injected clock and by Redis's.
  void pass_visibility(std::chrono::milliseconds visibility) {
    clock_.advance(visibility + std::chrono::milliseconds(1));
    std::this_thread::sleep_for(visibility + std::chrono::milliseconds(100));
  }

  std::vector<DeadJob> dead_of(const std::string& queue) {
    return queue_->dead_letters(DeadLetterQuery{std::nullopt, queue, 100});
  }

  FakeClock clock_;
  std::unique_ptr<JobQueue> queue_;
};

TEST_P(JobQueueConformance, ClaimedJobCarriesWhatWasEnqueuedAndAckRemovesIt) {
  const auto q = fresh_queue();
  Job job = make_job(q, "notify.email", "acme-pune", "3f9c2a1b7d", R"({"alert":42,"text":"Überlast \"A\""})");
  const std::string id = queue_->enqueue(job);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(queue_->depth(q), 1);

  auto claimed = queue_->claim(q, "consumer-a");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id, id);
  EXPECT_EQ(claimed->queue, q);
  EXPECT_EQ(claimed->task, "notify.email");
  EXPECT_EQ(claimed->factory_id, "acme-pune");
  EXPECT_EQ(claimed->request_id, "3f9c2a1b7d");
  EXPECT_EQ(claimed->payload, job.payload);
  EXPECT_EQ(claimed->attempts, 1);
  EXPECT_EQ(claimed->enqueued_at_ms, clock_.now());
  EXPECT_TRUE(claimed->last_error.empty());

  // Claimed: nobody else gets it while it runs.
  EXPECT_FALSE(queue_->claim(q, "consumer-b").has_value());
  queue_->ack(*claimed);
  EXPECT_EQ(queue_->depth(q), 0);
  clock_.advance(std::chrono::hours(1));
  EXPECT_FALSE(queue_->claim(q, "consumer-b").has_value());
}

TEST_P(JobQueueConformance, JobsOfOneQueueComeInTheOrderTheyWereEnqueued) {
  const auto q = fresh_queue();
  for (int i = 0; i < 5; ++i) queue_->enqueue(job_for(q, R"({"n":)" + std::to_string(i) + "}"));
  for (int i = 0; i < 5; ++i) {
    auto job = queue_->claim(q, "c");
    ASSERT_TRUE(job.has_value()) << i;
    EXPECT_EQ(job->payload, R"({"n":)" + std::to_string(i) + "}");
    queue_->ack(*job);
  }
  EXPECT_FALSE(queue_->claim(q, "c").has_value());
}

TEST_P(JobQueueConformance, QueuesAreIsolatedFromEachOther) {
  const auto rules = fresh_queue("rule-engine");
  const auto notifications = fresh_queue("notifications");
  queue_->enqueue(job_for(rules, R"({"for":"rules"})"));
  EXPECT_FALSE(queue_->claim(notifications, "c").has_value());
  EXPECT_EQ(queue_->depth(notifications), 0);
  auto job = queue_->claim(rules, "c");
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->payload, R"({"for":"rules"})");
  queue_->ack(*job);
}

TEST_P(JobQueueConformance, AJobScheduledForLaterIsNotDeliveredBefore) {
  const auto q = fresh_queue();
  Job job = job_for(q);
  job.not_before_ms = clock_.now() + 60'000;
  queue_->enqueue(job);
  EXPECT_EQ(queue_->depth(q), 1);
  EXPECT_FALSE(queue_->claim(q, "c").has_value());
  clock_.advance(std::chrono::milliseconds(59'999));
  EXPECT_FALSE(queue_->claim(q, "c").has_value());
  clock_.advance(std::chrono::milliseconds(1));
  auto claimed = queue_->claim(q, "c");
  ASSERT_TRUE(claimed.has_value());
  queue_->ack(*claimed);
}

TEST_P(JobQueueConformance, FailuresAreRetriedThreeTimesWithExponentialBackoffThenDeadLettered) {
  const auto q = fresh_queue();
  const std::string id = queue_->enqueue(job_for(q));
  // Delays before retries 1, 2 and 3: base, 2 x base, 4 x base.
  const std::vector<std::chrono::milliseconds> delays = {kRetryBase, 2 * kRetryBase, 4 * kRetryBase};
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    auto job = queue_->claim(q, "c");
    ASSERT_TRUE(job.has_value()) << "attempt " << attempt;
    EXPECT_EQ(job->id, id);
    EXPECT_EQ(job->attempts, attempt);
    if (attempt > 1) {
      EXPECT_EQ(job->last_error, "smtp down " + std::to_string(attempt - 1));
    }
    const auto outcome = queue_->fail(*job, "smtp down " + std::to_string(attempt), false);
    if (attempt == kMaxAttempts) {
      EXPECT_EQ(outcome, FailOutcome::dead_lettered);
      break;
    }
    EXPECT_EQ(outcome, FailOutcome::retry_scheduled);
    EXPECT_EQ(queue_->depth(q), 1);
    const auto delay = delays[static_cast<std::size_t>(attempt - 1)];
    clock_.advance(delay - std::chrono::milliseconds(1));
    EXPECT_FALSE(queue_->claim(q, "c").has_value()) << "retry " << attempt << " came before its backoff";
    clock_.advance(std::chrono::milliseconds(1));
  }
  clock_.advance(std::chrono::hours(24));
  EXPECT_FALSE(queue_->claim(q, "c").has_value());
  EXPECT_EQ(queue_->depth(q), 0);

  auto dead = dead_of(q);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].job.id, id);
  EXPECT_EQ(dead[0].job.attempts, kMaxAttempts);
  EXPECT_EQ(dead[0].job.last_error, "smtp down 4");
  EXPECT_EQ(dead[0].job.factory_id, "acme-pune");
  EXPECT_EQ(dead[0].job.request_id, "req-0001");
  EXPECT_EQ(dead[0].job.task, "evaluate");
  EXPECT_EQ(dead[0].died_at_ms, clock_.now() - std::chrono::milliseconds(std::chrono::hours(24)).count());
}

TEST_P(JobQueueConformance, APermanentFailureIsDeadLetteredAtOnceAndCanBeRequeuedOrDeleted) {
  const auto q = fresh_queue();
  const std::string id = queue_->enqueue(job_for(q));
  auto job = queue_->claim(q, "c");
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(queue_->fail(*job, "payload names no device", true), FailOutcome::dead_lettered);
  ASSERT_EQ(dead_of(q).size(), 1u);
  EXPECT_EQ(dead_of(q)[0].job.last_error, "payload names no device");
  // Another queue's listing does not show it; the all-queues listing does.
  EXPECT_TRUE(dead_of(fresh_queue()).empty());
  auto all = queue_->dead_letters(DeadLetterQuery{std::nullopt, "", 10000});
  EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const DeadJob& d) { return d.job.id == id; }));
  // A factory sees its own dead letters only, and cannot touch another's.
  const core::FactoryId owner("acme-pune");
  const core::FactoryId other("globex-berlin");
  auto mine = queue_->dead_letters(DeadLetterQuery{owner, q, 10});
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].job.id, id);
  EXPECT_TRUE(queue_->dead_letters(DeadLetterQuery{other, q, 10}).empty());
  for (const auto& d : queue_->dead_letters(DeadLetterQuery{other, "", 10000})) {
    EXPECT_EQ(d.job.factory_id, "globex-berlin");
  }
  EXPECT_FALSE(queue_->requeue_dead(other, id));
  EXPECT_FALSE(queue_->delete_dead(other, id));
  EXPECT_EQ(dead_of(q).size(), 1u);

  ASSERT_TRUE(queue_->requeue_dead(owner, id));
  EXPECT_TRUE(dead_of(q).empty());
  auto again = queue_->claim(q, "c");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id, id);
  EXPECT_EQ(again->attempts, 1);
  EXPECT_EQ(queue_->fail(*again, "still broken", true), FailOutcome::dead_lettered);

  EXPECT_TRUE(queue_->delete_dead(std::nullopt, id));
  EXPECT_TRUE(dead_of(q).empty());
  EXPECT_FALSE(queue_->delete_dead(std::nullopt, id));
  EXPECT_FALSE(queue_->requeue_dead(std::nullopt, id));
  EXPECT_FALSE(queue_->requeue_dead(std::nullopt, "no-such-job"));
  EXPECT_FALSE(queue_->claim(q, "c").has_value());
}

TEST_P(JobQueueConformance, AnUnansweredDeliveryIsReclaimedAfterTheVisibilityTimeout) {
  auto queue = open(kShortVisibility);
  const auto q = fresh_queue();
  const std::string id = queue->enqueue(job_for(q));
  auto first = queue->claim(q, "crashed-consumer");
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(queue->claim(q, "survivor").has_value());

  pass_visibility(kShortVisibility);
  auto second = queue->claim(q, "survivor");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->id, id);
  EXPECT_EQ(second->attempts, 2);
  EXPECT_EQ(second->factory_id, "acme-pune");
  EXPECT_EQ(second->request_id, "req-0001");

  // The presumed-dead consumer wakes up and fails: the delivery is no longer its to decide.
  EXPECT_EQ(queue->fail(*first, "late", false), FailOutcome::stale);
  EXPECT_FALSE(queue->claim(q, "third").has_value());
  queue->ack(*second);
  pass_visibility(kShortVisibility);
  EXPECT_FALSE(queue->claim(q, "third").has_value());
  EXPECT_EQ(queue->depth(q), 0);
  EXPECT_TRUE(dead_of(q).empty());
}

TEST_P(JobQueueConformance, AJobThatNeverGetsAnsweredIsDeadLetteredAfterItsLastAttempt) {
  auto queue = open(kShortVisibility);
  const auto q = fresh_queue();
  const std::string id = queue->enqueue(job_for(q));
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    auto job = queue->claim(q, "consumer-" + std::to_string(attempt));
    ASSERT_TRUE(job.has_value()) << attempt;
    EXPECT_EQ(job->attempts, attempt);
    pass_visibility(kShortVisibility);
  }
  EXPECT_FALSE(queue->claim(q, "c").has_value());
  auto dead = queue->dead_letters(DeadLetterQuery{std::nullopt, q, 10});
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].job.id, id);
  EXPECT_EQ(dead[0].job.attempts, kMaxAttempts);
  EXPECT_NE(dead[0].job.last_error.find("visibility timeout"), std::string::npos) << dead[0].job.last_error;
}

TEST_P(JobQueueConformance, ConcurrentConsumersNeverHoldTheSameJob) {
  const auto q = fresh_queue();
  constexpr int kJobs = 150;
  constexpr int kConsumers = 6;
  std::set<std::string> enqueued;
  for (int i = 0; i < kJobs; ++i) enqueued.insert(queue_->enqueue(job_for(q, std::to_string(i))));
  ASSERT_EQ(enqueued.size(), static_cast<std::size_t>(kJobs));

  // Separate queue objects, as separate processes would have; jobs are held (not acked) until
  // every consumer has finished, so a double delivery cannot hide behind an early ack.
  std::mutex mutex;
  std::map<std::string, int> deliveries;
  std::vector<Job> held;
  std::vector<std::thread> consumers;
  std::vector<std::unique_ptr<JobQueue>> queues;
  for (int c = 0; c < kConsumers; ++c) queues.push_back(open(std::chrono::minutes(5)));
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&, c] {
      try {
        while (auto job = queues[static_cast<std::size_t>(c)]->claim(q, "consumer-" + std::to_string(c))) {
          std::lock_guard lock(mutex);
          ++deliveries[job->id];
          held.push_back(std::move(*job));
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "consumer " << c << ": " << e.what();
      }
    });
  }
  for (auto& t : consumers) t.join();
  EXPECT_EQ(deliveries.size(), static_cast<std::size_t>(kJobs));
  for (const auto& [id, count] : deliveries) {
    EXPECT_EQ(count, 1) << "job " << id;
    EXPECT_EQ(enqueued.count(id), 1u);
  }
  for (const auto& job : held) queue_->ack(job);
  EXPECT_EQ(queue_->depth(q), 0);
}

TEST_P(JobQueueConformance, ProducersAndConsumersAtOnceRunEveryJobOnce) {
  const auto q = fresh_queue();
  constexpr int kProducers = 2;
  constexpr int kPerProducer = 100;
  constexpr int kConsumers = 4;
  std::mutex mutex;
  std::set<std::string> enqueued;
  std::map<std::string, int> acked;
  std::atomic<int> producers_running{kProducers};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      try {
        auto queue = open(std::chrono::minutes(5));
        for (int i = 0; i < kPerProducer; ++i) {
          auto id = queue->enqueue(job_for(q, std::to_string(p * kPerProducer + i)));
          std::lock_guard lock(mutex);
          enqueued.insert(id);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "producer " << p << ": " << e.what();
      }
      --producers_running;
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      try {
        auto queue = open(std::chrono::minutes(5));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline) {
          auto job = queue->claim(q, "consumer-" + std::to_string(c));
          if (!job) {
            if (producers_running.load() == 0 && queue->depth(q) == 0) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            continue;
          }
          queue->ack(*job);
          std::lock_guard lock(mutex);
          ++acked[job->id];
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "consumer " << c << ": " << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(enqueued.size(), static_cast<std::size_t>(kProducers * kPerProducer));
  EXPECT_EQ(acked.size(), enqueued.size());
  for (const auto& [id, count] : acked) {
    EXPECT_EQ(count, 1) << "job " << id;
    EXPECT_EQ(enqueued.count(id), 1u) << id;
  }
  EXPECT_EQ(queue_->depth(q), 0);
}

TEST_P(JobQueueConformance, EnqueueRefusesJobsWithoutAValidFactoryOrRequestId) {
  const auto q = fresh_queue();
  auto field_of = [&](Job job) -> std::string {
    try {
      queue_->enqueue(job);
    } catch (const core::Invalid& e) {
      return e.field();
    }
    return "accepted";
  };
  EXPECT_EQ(field_of(make_job(q, "evaluate", "", "req-1", "{}")), "factory_id");
  EXPECT_EQ(field_of(make_job(q, "evaluate", "Acme Pune", "req-1", "{}")), "factory_id");
  EXPECT_EQ(field_of(make_job(q, "evaluate", "acme", "", "{}")), "request_id");
  EXPECT_EQ(field_of(make_job(q, "evaluate", "acme", "bad id\n", "{}")), "request_id");
  EXPECT_EQ(field_of(make_job(q, "evaluate", "acme", "req-1", "{not json")), "payload");
  EXPECT_EQ(field_of(make_job(q, "", "acme", "req-1", "{}")), "task");
  EXPECT_EQ(field_of(make_job("Bad Queue", "evaluate", "acme", "req-1", "{}")), "queue");
  EXPECT_EQ(queue_->depth(q), 0);
}

}  // namespace factoryops::queue::conformance
