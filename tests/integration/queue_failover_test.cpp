// Redis configured but stopped: jobs go to the SQL queue without loss or long waits, workers
// drain the SQL queue during the outage, and the jobs Redis held run once it is back; every job
// runs exactly once.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "harness/process.hpp"
#include "harness/services.hpp"
#include "harness/wait.hpp"
#include "queue/make_job_queue.hpp"
#include "queue/redis_queue.hpp"
#include "queue/sql_queue.hpp"
#include "queue/worker.hpp"

namespace factoryops::queue {
namespace {

using testing::eventually;
using testing::RedisServer;
using testing::TempDir;

TEST(QueueFailover, WhileRedisIsDownJobsGoToSqlAndEveryJobRunsOnce) {
  TempDir dir("factoryops-queue-failover");
  auto database = db::Database::open("sqlite:///" + (dir.path() / "jobs.db").string());
  db::migrate(*database);
  RedisServer redis;
  core::Config config;
  config.redis_url = redis.url();
  auto queue = make_job_queue(config, *database);
  ASSERT_EQ(queue->backend(), "redis+sql");
  SqlQueue sql(*database, QueueOptions{});
  RedisQueue direct_redis(redis.url(), QueueOptions{});
  const std::string q = "rule-engine";

  auto enqueue = [&](int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      const auto started = std::chrono::steady_clock::now();
      ids.push_back(queue->enqueue(make_job(q, "evaluate", "acme-pune", "req-failover", "{}")));
      EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1)) << "enqueue blocked";
    }
    return ids;
  };

  const auto before_outage = enqueue(10);
  EXPECT_EQ(direct_redis.depth(q), 10);
  EXPECT_EQ(sql.depth(q), 0);

  redis.stop();
  const auto during_outage = enqueue(10);
  EXPECT_EQ(sql.depth(q), 10) << "jobs enqueued while Redis is down are kept in SQL";

  std::mutex mutex;
  std::map<std::string, int> runs;
  WorkerOptions options;
  options.queues = {q};
  options.threads = 2;
  options.idle_wait = std::chrono::milliseconds(50);
  Worker worker(*queue, options);
  worker.on("evaluate", [&](const Job& job) {
    EXPECT_EQ(job.factory_id, "acme-pune");
    EXPECT_EQ(job.request_id, "req-failover");
    std::lock_guard lock(mutex);
    ++runs[job.id];
  });
  worker.start();
  auto ran = [&](const std::vector<std::string>& ids) {
    std::lock_guard lock(mutex);
    for (const auto& id : ids) {
      if (runs.count(id) == 0) return false;
    }
    return true;
  };
  EXPECT_TRUE(eventually([&] { return ran(during_outage); }, std::chrono::seconds(20)))
      << "the SQL queue is drained while Redis is down";
  {
    std::lock_guard lock(mutex);
    for (const auto& id : before_outage) EXPECT_EQ(runs.count(id), 0u) << "Redis is down: " << id;
  }

  redis.start();
  EXPECT_TRUE(eventually([&] { return ran(before_outage); }, std::chrono::seconds(20)))
      << "the jobs Redis kept run once it is back";
  const auto after_outage = enqueue(5);
  EXPECT_TRUE(eventually([&] { return ran(after_outage); }, std::chrono::seconds(20)));
  worker.stop();

  EXPECT_EQ(sql.depth(q), 0);
  EXPECT_EQ(direct_redis.depth(q), 0);
  std::set<std::string> all(before_outage.begin(), before_outage.end());
  all.insert(during_outage.begin(), during_outage.end());
  all.insert(after_outage.begin(), after_outage.end());
  EXPECT_EQ(all.size(), 25u);
  std::lock_guard lock(mutex);
  EXPECT_EQ(runs.size(), 25u);
  for (const auto& [id, count] : runs) {
    EXPECT_EQ(count, 1) << id;
    EXPECT_EQ(all.count(id), 1u) << id;
  }
  EXPECT_TRUE(queue->dead_letters(DeadLetterQuery{std::nullopt, q, 10}).empty());
}

}  // namespace
}  // namespace factoryops::queue
