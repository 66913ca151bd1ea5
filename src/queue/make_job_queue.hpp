// Chooses the job queue from the configuration: the SQL table queue when FACTORYOPS_REDIS_URL
// is empty, otherwise Redis Streams with the SQL queue as its fallback. Free function; the
// returned queue is thread-safe and must not outlive `database`.
#pragma once

#include <memory>

#include "core/config.hpp"
#include "db/database.hpp"
#include "queue/job_queue.hpp"

namespace factoryops::queue {

QueueOptions queue_options(const core::Config& config);

// Throws core::Invalid for a malformed redis_url. Does not connect: Redis may be down.
std::unique_ptr<JobQueue> make_job_queue(const core::Config& config, db::Database& database);
// The same with options other than the configuration's (tests: a short visibility timeout).
std::unique_ptr<JobQueue> make_job_queue(const core::Config& config, db::Database& database,
                                         const QueueOptions& options);

}  // namespace factoryops::queue
