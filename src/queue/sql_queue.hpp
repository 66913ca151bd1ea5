// The SQL-table job queue (table `jobs`, migration 0004) in the metadata database, SQLite or
// MySQL/MariaDB with the same statements. Claims are safe across threads and processes:
// SQLite serialises them with BEGIN IMMEDIATE, MariaDB with SELECT … FOR UPDATE SKIP LOCKED.
// Thread-safe; must not outlive its Database.
#pragma once

#include "db/database.hpp"
#include "queue/job_queue.hpp"

namespace factoryops::queue {

class SqlQueue final : public JobQueue {
 public:
  SqlQueue(db::Database& database, QueueOptions options);

  std::string_view backend() const override { return "sql"; }
  std::string enqueue(const Job& job) override;
  std::optional<Job> claim(std::string_view queue, std::string_view consumer) override;
  void ack(const Job& job) override;
  FailOutcome fail(const Job& job, std::string_view error, bool permanent) override;
  std::vector<DeadJob> dead_letters(const DeadLetterQuery& query) override;
  bool requeue_dead(const std::optional<core::FactoryId>& factory, std::string_view id) override;
  bool delete_dead(const std::optional<core::FactoryId>& factory, std::string_view id) override;
  std::int64_t depth(std::string_view queue) override;

 private:
  std::int64_t now() const { return options_.clock(); }

  db::Database& database_;
  QueueOptions options_;
};

// Cuts an error message to kMaxErrorLength bytes without splitting a UTF-8 sequence.
std::string truncate_error(std::string_view error);

}  // namespace factoryops::queue
