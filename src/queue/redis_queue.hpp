// The Redis Streams job queue: one stream per queue read through the consumer group
// "workers" (XREADGROUP), entries idle past the visibility timeout taken over with XAUTOCLAIM,
// retries waiting in a sorted set until due, dead letters in a hash. Redis must keep its data
// (appendonly yes in production) for jobs to survive a Redis restart.
// Thread-safe (a small pool of hiredis connections); lives as long as the role that uses it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "queue/job_queue.hpp"

namespace factoryops::queue {

class RedisQueue final : public JobQueue {
 public:
  // `url`: redis://[:password@]host[:port][/db] or unix:///path/to/socket. Throws core::Invalid
  // for anything else. Connects lazily: Redis may be down when this is built.
  RedisQueue(std::string url, QueueOptions options);
  ~RedisQueue() override;
  RedisQueue(const RedisQueue&) = delete;
  RedisQueue& operator=(const RedisQueue&) = delete;

  // Every operation throws core::Unavailable when Redis does not answer.
  std::string_view backend() const override { return "redis"; }
  std::string enqueue(const Job& job) override;
  std::optional<Job> claim(std::string_view queue, std::string_view consumer) override;
  void ack(const Job& job) override;
  FailOutcome fail(const Job& job, std::string_view error, bool permanent) override;
  std::vector<DeadJob> dead_letters(const DeadLetterQuery& query) override;
  bool requeue_dead(const std::optional<core::FactoryId>& factory, std::string_view id) override;
  bool delete_dead(const std::optional<core::FactoryId>& factory, std::string_view id) override;
  std::int64_t depth(std::string_view queue) override;
  // XGROUP DELCONSUMER when the consumer has no pending delivery.
  void retire_consumer(std::string_view queue, std::string_view consumer) noexcept override;

  // True when a connection can be had now (no exception).
  bool reachable();

  class Connection;

 private:
  class Lease;
  Lease lease();
  void release(Connection* connection, bool broken) noexcept;
  std::int64_t now() const { return options_.clock(); }
  std::string autoclaim_cursor(const std::string& stream);
  void set_autoclaim_cursor(const std::string& stream, std::string cursor);

  std::string host_;
  int port_ = 6379;
  std::string socket_path_;
  std::string password_;
  int db_ = 0;
  QueueOptions options_;

  std::mutex mutex_;  // guards idle_, next_connect_ms_ and autoclaim_cursors_
  std::vector<Connection*> idle_;
  std::int64_t next_connect_ms_ = 0;                      // steady clock: no reconnect attempt before this
  std::map<std::string, std::string> autoclaim_cursors_;  // stream key -> XAUTOCLAIM start id
};

}  // namespace factoryops::queue
