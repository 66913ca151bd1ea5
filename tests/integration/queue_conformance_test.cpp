// The job queue backends against the shared conformance suite: the SQL table queue on a SQLite
// file and on a real MariaDB server, and Redis Streams on a real redis-server.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "db/database.hpp"
#include "db/migrations.hpp"
#include "harness/mariadb.hpp"
#include "harness/process.hpp"
#include "harness/services.hpp"
#include "queue/queue_conformance.hpp"
#include "queue/redis_queue.hpp"
#include "queue/sql_queue.hpp"
#include "queue/worker.hpp"

namespace factoryops::queue::conformance {
namespace {

using testing::MariaDbServer;
using testing::RedisServer;
using testing::TempDir;

// Servers and databases shared by the whole suite (tests keep apart by queue name); created on
// first use, stopped and removed when the test program ends.
struct Shared {
  std::unique_ptr<TempDir> sqlite_dir;
  std::unique_ptr<db::Database> sqlite;
  std::unique_ptr<db::Database> mariadb;
  std::unique_ptr<RedisServer> redis;
};

Shared& shared() {
  static Shared instance;
  return instance;
}

std::unique_ptr<db::Database> migrated(const std::string& url) {
  auto database = db::Database::open(url);
  db::migrate(*database);
  return database;
}

std::unique_ptr<JobQueue> open_sqlite(const QueueOptions& options) {
  auto& s = shared();
  if (!s.sqlite) {
    s.sqlite_dir = std::make_unique<TempDir>("factoryops-queue-sqlite");
    s.sqlite = migrated("sqlite:///" + (s.sqlite_dir->path() / "jobs.db").string());
  }
  return std::make_unique<SqlQueue>(*s.sqlite, options);
}

std::unique_ptr<JobQueue> open_mariadb(const QueueOptions& options) {
  auto& s = shared();
  if (!s.mariadb) s.mariadb = migrated(MariaDbServer::shared().create_database("fo_queue_conformance"));
  return std::make_unique<SqlQueue>(*s.mariadb, options);
}

std::unique_ptr<JobQueue> open_redis(const QueueOptions& options) {
  auto& s = shared();
  if (!s.redis) s.redis = std::make_unique<RedisServer>();
  return std::make_unique<RedisQueue>(s.redis->url(), options);
}

INSTANTIATE_TEST_SUITE_P(Backends, JobQueueConformance,
                         ::testing::Values(QueueConformanceParam{"sql_sqlite", open_sqlite},
                                           QueueConformanceParam{"sql_mariadb", open_mariadb},
                                           QueueConformanceParam{"redis_streams", open_redis}),
                         conformance_param_name);

// Redis keeps a list of each group's consumers: a worker that stops takes its consumers off it,
// but a consumer with an unanswered delivery stays until that delivery is settled.
TEST(RedisQueueConsumers, AStoppedWorkerLeavesNoConsumerBehind) {
  auto queue = open_redis({});
  const std::string name = "retire";
  auto consumers = [&] {
    // XINFO CONSUMERS answers an array: its first line is "*<count>".
    return shared().redis->command("XINFO CONSUMERS factoryops:jobs:q:" + name + " workers");
  };
  queue->enqueue(make_job(name, "work", "acme", "req-retire-1", "{}"));
  std::atomic<int> ran{0};
  {
    Worker worker(
        *queue,
        WorkerOptions{
            .queues = {name}, .threads = 1, .idle_wait = std::chrono::milliseconds(20), .name = "retiring"});
    worker.on("work", [&ran](const Job&) { ++ran; });
    worker.start();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ran.load() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(ran.load(), 1);
    EXPECT_EQ(consumers(), "*1");
    worker.stop();
  }
  EXPECT_EQ(consumers(), "*0");

  queue->enqueue(make_job(name, "work", "acme", "req-retire-2", "{}"));
  auto held = queue->claim(name, "holder");
  ASSERT_TRUE(held);
  queue->retire_consumer(name, "holder");
  EXPECT_EQ(consumers(), "*1") << "a consumer with an unanswered delivery was dropped";
  queue->ack(*held);
  queue->retire_consumer(name, "holder");
  EXPECT_EQ(consumers(), "*0");
}

struct StopSharedServers : ::testing::Environment {
  void TearDown() override {
    auto& s = shared();
    s.sqlite.reset();
    s.sqlite_dir.reset();
    s.mariadb.reset();
    s.redis.reset();
  }
};
const auto* const stop_shared = ::testing::AddGlobalTestEnvironment(new StopSharedServers);

}  // namespace
}  // namespace factoryops::queue::conformance
