// A primary queue (Redis Streams) backed by a fallback (the SQL table) for the time the primary
// is down: enqueue goes to the fallback when the primary does not answer, and claims drain both,
// so jobs enqueued during an outage run during it and nothing waits for Redis to return.
// Thread-safe when both queues are; borrows both (they must outlive it) or owns them.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "queue/job_queue.hpp"

namespace factoryops::queue {

class FailoverQueue final : public JobQueue {
 public:
  FailoverQueue(JobQueue& primary, JobQueue& fallback);
  // Owns both.
  FailoverQueue(std::unique_ptr<JobQueue> primary, std::unique_ptr<JobQueue> fallback);

  std::string_view backend() const override { return "redis+sql"; }
  // Throws core::Unavailable only when neither queue takes the job.
  std::string enqueue(const Job& job) override;
  // Alternates which queue is asked first, so neither starves the other.
  std::optional<Job> claim(std::string_view queue, std::string_view consumer) override;
  void ack(const Job& job) override;
  FailOutcome fail(const Job& job, std::string_view error, bool permanent) override;
  // Both queues' dead letters, most recent first; a queue that does not answer is left out.
  std::vector<DeadJob> dead_letters(const DeadLetterQuery& query) override;
  bool requeue_dead(const std::optional<core::FactoryId>& factory, std::string_view id) override;
  bool delete_dead(const std::optional<core::FactoryId>& factory, std::string_view id) override;
  std::int64_t depth(std::string_view queue) override;
  void retire_consumer(std::string_view queue, std::string_view consumer) noexcept override;

 private:
  JobQueue& owner_of(const Job& job);
  bool on_either(std::string_view id, const std::function<bool(JobQueue&, std::string_view)>& action);

  std::unique_ptr<JobQueue> owned_primary_;
  std::unique_ptr<JobQueue> owned_fallback_;
  JobQueue& primary_;
  JobQueue& fallback_;
  std::atomic<std::uint64_t> claims_{0};
  std::atomic<std::int64_t> last_warning_ms_{0};
};

}  // namespace factoryops::queue
