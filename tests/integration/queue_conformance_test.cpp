// The job queue backends against the shared conformance suite: the SQL table queue on a SQLite
// file and on a real MariaDB server, and Redis Streams on a real redis-server.
#include <memory>
#include <string>

#include "db/database.hpp"
#include "db/migrations.hpp"
#include "harness/mariadb.hpp"
#include "harness/process.hpp"
#include "harness/services.hpp"
#include "queue/queue_conformance.hpp"
#include "queue/redis_queue.hpp"
#include "queue/sql_queue.hpp"

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
