// The job runtime's contract: a Job (one unit of background work for one factory), the
// JobQueue interface every backend implements (SQL table, Redis Streams, failover of both),
// and the retry policy they share. Implementations are thread-safe and live as long as the
// role that uses them; Jobs are plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.hpp"

namespace factoryops::queue {

// The queues of the roles (DESIGN §2); any slug is accepted, these are the ones in use.
inline constexpr std::string_view kRuleEngineQueue = "rule-engine";
inline constexpr std::string_view kNotificationsQueue = "notifications";
inline constexpr std::string_view kAnalyticsQueue = "analytics";
inline constexpr std::string_view kReportingQueue = "reporting";

// The first delivery and at most 3 retries (HLD §11); then the job is dead-lettered.
inline constexpr int kMaxAttempts = 4;
inline constexpr std::size_t kMaxPayloadBytes = 1024 * 1024;
inline constexpr std::size_t kMaxTaskLength = 128;
inline constexpr std::size_t kMaxErrorLength = 2000;

struct Job {
  std::string id;                   // assigned by enqueue(); stable across retries
  std::string queue;                // e.g. kRuleEngineQueue
  std::string task;                 // what to run: the worker dispatches on it
  std::string factory_id;           // a slug; checked on enqueue and again by the worker
  std::string request_id;           // of the request or job that caused this one; on every log line
  std::string payload;              // a JSON document, opaque to the queue
  int attempts = 0;                 // deliveries so far, this one included (1 on the first)
  std::int64_t not_before_ms = 0;   // epoch ms; enqueue: 0 = deliverable now
  std::int64_t enqueued_at_ms = 0;  // set by enqueue()
  std::string last_error;           // why the previous attempt failed, "" if none
  std::string receipt;              // the backend's handle on this delivery (ack/fail)
};

// A Job and the fields producers set; the rest is filled by the queue.
Job make_job(std::string_view queue, std::string_view task, std::string_view factory_id,
             std::string_view request_id, std::string payload);

struct DeadJob {
  Job job;  // attempts = deliveries made; last_error = why it died
  std::int64_t died_at_ms = 0;
};

struct DeadLetterQuery {
  std::optional<core::FactoryId> factory;  // nullopt: every factory
  std::string queue;                       // empty: every queue
  std::size_t limit = 100;
};

enum class FailOutcome {
  retry_scheduled,  // delivered again after the backoff
  dead_lettered,    // out of attempts, or failed permanently
  stale,            // the delivery was no longer ours (reclaimed by another consumer)
};
std::string_view fail_outcome_name(FailOutcome outcome);

// Milliseconds since the Unix epoch; tests inject a fake one.
using Clock = std::function<std::int64_t()>;
std::int64_t system_clock_ms();

struct QueueOptions {
  // A claimed job that is neither acked nor failed within this time is delivered again (its
  // consumer is presumed dead). Longer than the slowest handler.
  std::chrono::milliseconds visibility_timeout{std::chrono::minutes(5)};
  // Delay before retry n (n = 1..3): retry_base * 2^(n-1), i.e. 10 s, 20 s, 40 s.
  std::chrono::milliseconds retry_base{std::chrono::seconds(10)};
  Clock clock;  // empty = the system clock
};

// The delay before the next delivery of a job whose attempt number `attempts` just failed.
std::int64_t retry_delay_ms(const QueueOptions& options, int attempts);

// Throws core::Invalid naming the field unless queue, task, factory_id, request_id and
// payload are acceptable (slugs, sizes, payload is JSON).
void validate_job(const Job& job);

class JobQueue {
 public:
  virtual ~JobQueue() = default;

  // "sql", "redis" or "redis+sql" (the failover pair).
  virtual std::string_view backend() const = 0;

  // Stores the job durably and returns its id. Never waits on consumers. Throws core::Invalid
  // (validate_job) or core::Unavailable (the backend does not answer).
  virtual std::string enqueue(const Job& job) = 0;

  // The oldest deliverable job of `queue`, now invisible to other consumers for the visibility
  // timeout, with attempts incremented; nullopt when none is due. `consumer` names the caller
  // (host/pid/thread) for diagnostics. A job whose last delivery was never answered and that
  // has no attempt left is dead-lettered here instead of being returned.
  virtual std::optional<Job> claim(std::string_view queue, std::string_view consumer) = 0;

  // The job is done: it will not be delivered again.
  virtual void ack(const Job& job) = 0;

  // The attempt failed: schedule the next one after the backoff, or dead-letter the job when it
  // is out of attempts or `permanent` (retrying cannot help, e.g. a malformed payload).
  virtual FailOutcome fail(const Job& job, std::string_view error, bool permanent) = 0;

  // Dead letters, most recent first. For the super admin of query.factory; an unset factory
  // means every factory's (operators and tools only, never a tenant request).
  virtual std::vector<DeadJob> dead_letters(const DeadLetterQuery& query) = 0;
  // Puts a dead job back in its queue with a fresh set of attempts; false when `id` is not a
  // dead letter here (of `factory`, when set).
  virtual bool requeue_dead(const std::optional<core::FactoryId>& factory, std::string_view id) = 0;
  // Forgets a dead job; false when `id` is not a dead letter here (of `factory`, when set).
  virtual bool delete_dead(const std::optional<core::FactoryId>& factory, std::string_view id) = 0;

  // Jobs of `queue` waiting, scheduled for retry or in flight (not dead).
  virtual std::int64_t depth(std::string_view queue) = 0;

  // A consumer that stops claiming (its worker thread ends) says so: a backend that lists its
  // consumers forgets it, unless deliveries to it are still unanswered (those are reclaimed
  // after the visibility timeout as usual). Best effort; never throws. Nothing to do by default.
  virtual void retire_consumer(std::string_view queue, std::string_view consumer) noexcept {
    (void)queue;
    (void)consumer;
  }
};

}  // namespace factoryops::queue
