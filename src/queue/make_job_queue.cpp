#include "queue/make_job_queue.hpp"

#include "queue/failover_queue.hpp"
#include "queue/redis_queue.hpp"
#include "queue/sql_queue.hpp"

namespace factoryops::queue {

QueueOptions queue_options(const core::Config& config) {
  QueueOptions options;
  options.visibility_timeout = std::chrono::seconds(config.job_visibility_timeout_seconds);
  return options;
}

std::unique_ptr<JobQueue> make_job_queue(const core::Config& config, db::Database& database) {
  return make_job_queue(config, database, queue_options(config));
}

std::unique_ptr<JobQueue> make_job_queue(const core::Config& config, db::Database& database,
                                         const QueueOptions& options) {
  auto sql = std::make_unique<SqlQueue>(database, options);
  if (config.redis_url.empty()) return sql;
  return std::make_unique<FailoverQueue>(std::make_unique<RedisQueue>(config.redis_url, options),
                                         std::move(sql));
}

}  // namespace factoryops::queue
