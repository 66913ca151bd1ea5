// Job queue throughput on one thread: enqueue alone, and a full enqueue-claim-ack round trip,
// on the SQL queue over a SQLite file (the embedded default) and, when
// FACTORYOPS_BENCH_REDIS_URL names a running Redis, on Redis Streams.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "db/database.hpp"
#include "db/migrations.hpp"
#include "queue/redis_queue.hpp"
#include "queue/sql_queue.hpp"

namespace {

using namespace factoryops;
namespace fs = std::filesystem;

const std::string kPayload =
    R"({"factory_id":"acme","device_id":"press-1","readings":[{"ts":1780272000000,"power_kw":74.2}]})";

struct SqliteQueue {
  SqliteQueue() {
    std::string pattern = (fs::temp_directory_path() / "queue-bench-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
    database = db::Database::open("sqlite:///" + (dir / "jobs.db").string());
    db::migrate(*database);
    queue = std::make_unique<queue::SqlQueue>(*database, queue::QueueOptions{});
  }
  ~SqliteQueue() {
    queue.reset();
    database.reset();
    fs::remove_all(dir);
  }
  fs::path dir;
  std::unique_ptr<db::Database> database;
  std::unique_ptr<queue::SqlQueue> queue;
};

void run_enqueue(benchmark::State& state, queue::JobQueue& q, const std::string& name) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(q.enqueue(queue::make_job(name, "evaluate", "acme", "bench-req", kPayload)));
  }
  state.SetItemsProcessed(state.iterations());
}

void run_round_trip(benchmark::State& state, queue::JobQueue& q, const std::string& name) {
  for (auto _ : state) {
    q.enqueue(queue::make_job(name, "evaluate", "acme", "bench-req", kPayload));
    auto job = q.claim(name, "bench");
    if (!job) {
      state.SkipWithError("claim found nothing");
      return;
    }
    q.ack(*job);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SqliteEnqueue(benchmark::State& state) {
  SqliteQueue q;
  run_enqueue(state, *q.queue, "bench-enqueue");
}
BENCHMARK(BM_SqliteEnqueue);

void BM_SqliteEnqueueClaimAck(benchmark::State& state) {
  SqliteQueue q;
  run_round_trip(state, *q.queue, "bench-round-trip");
}
BENCHMARK(BM_SqliteEnqueueClaimAck);

std::unique_ptr<queue::RedisQueue> redis_queue(benchmark::State& state) {
  const char* url = ::getenv("FACTORYOPS_BENCH_REDIS_URL");
  if (url == nullptr || *url == '\0') {
    state.SkipWithError("set FACTORYOPS_BENCH_REDIS_URL to a running Redis");
    return nullptr;
  }
  return std::make_unique<queue::RedisQueue>(url, queue::QueueOptions{});
}

void BM_RedisEnqueue(benchmark::State& state) {
  if (auto q = redis_queue(state)) run_enqueue(state, *q, "bench-enqueue-" + std::to_string(::getpid()));
}
BENCHMARK(BM_RedisEnqueue);

void BM_RedisEnqueueClaimAck(benchmark::State& state) {
  if (auto q = redis_queue(state))
    run_round_trip(state, *q, "bench-round-trip-" + std::to_string(::getpid()));
}
BENCHMARK(BM_RedisEnqueueClaimAck);

}  // namespace
