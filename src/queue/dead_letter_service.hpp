// The super admin's view of the jobs that failed for good: list a factory's dead letters,
// re-queue one or delete one (both audited). Every call needs manage_factory and sees only the
// caller's factory. Thread-safe; the JobQueue and Database must outlive it.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "auth/context.hpp"
#include "db/database.hpp"
#include "queue/job_queue.hpp"

namespace factoryops::queue {

inline constexpr std::size_t kMaxDeadLetterPage = 500;

class DeadLetterService {
 public:
  DeadLetterService(JobQueue& queue, db::Database& database) : queue_(queue), database_(database) {}

  // Newest first; `queue` empty = every queue. core::Forbidden without manage_factory,
  // core::Invalid for a bad queue name or a limit outside 1..kMaxDeadLetterPage.
  std::vector<DeadJob> list(const auth::FactoryContext& context, std::string_view queue, std::size_t limit);
  // core::NotFound unless `id` is a dead letter of the caller's factory.
  void requeue(const auth::FactoryContext& context, std::string_view id);
  void remove(const auth::FactoryContext& context, std::string_view id);

 private:
  void audit(const auth::FactoryContext& context, std::string action, std::string_view id);

  JobQueue& queue_;
  db::Database& database_;
};

}  // namespace factoryops::queue
