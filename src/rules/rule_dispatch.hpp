// Hands stored telemetry to the rule engine through the job queue without ever making ingestion
// wait: the ingest pipeline's listener only appends to a bounded buffer; a thread packs what
// accumulated for each factory into one `rules.evaluate` job on the rule-engine queue every
// interval (or sooner when a factory's pack is large). Only what some enabled rule reads is
// forwarded: factories without rules cost nothing. Thread-safe; stop() (or the destructor)
// enqueues what is buffered, then joins. The JobQueue and Database must outlive it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "db/database.hpp"

#include "queue/job_queue.hpp"
#include "tsdb/store.hpp"

namespace factoryops::rules {

inline constexpr std::string_view kEvaluateTask = "rules.evaluate";

// The job payload: {"devices":[{"id":"m1","readings":[[ts_ms,{"power_kw":75.1,…}],…]},…]}.
std::string encode_batches(const std::vector<tsdb::DeviceBatch>& batches);
// core::Invalid naming what is wrong when the payload is not such a document.
std::vector<tsdb::DeviceBatch> decode_batches(const core::FactoryId& factory, std::string_view payload);

class RuleDispatcher {
 public:
  struct Options {
    std::chrono::milliseconds interval{200};
    std::size_t max_readings_per_job = 2000;
    std::size_t max_buffered_readings = 200'000;  // beyond: dropped and counted, never waited for
    // How often the parameters that enabled rules read are looked up again (rules changed in
    // another process take effect within this; reload_interest() is immediate).
    std::chrono::milliseconds interest_refresh{std::chrono::seconds(5)};
  };

  // `rules_db` tells which parameters the factories' enabled rules read; null forwards everything.
  RuleDispatcher(queue::JobQueue& jobs, db::Database* rules_db);
  RuleDispatcher(queue::JobQueue& jobs, db::Database* rules_db, Options options);
  ~RuleDispatcher();
  RuleDispatcher(const RuleDispatcher&) = delete;
  RuleDispatcher& operator=(const RuleDispatcher&) = delete;

  // The ingest pipeline's listener.
  void add(const tsdb::DeviceBatch& batch);
  void stop();

  // Reads the enabled rules again, now: after a rule was created, changed or deleted. Never
  // throws (a database error keeps what was known).
  void reload_interest();

 private:
  // What a factory's enabled rules read: these parameters, and every reading at all when one of
  // them waits for a machine's silence (a no_data condition without a parameter).
  struct Interest {
    bool any_reading = false;
    std::set<std::string, std::less<>> parameters;
  };

  void run();
  // Enqueues the packs taken from the buffer; a failed enqueue is retried at the next round.
  void send(std::map<std::string, std::vector<tsdb::DeviceBatch>>& packs);

  queue::JobQueue& jobs_;
  db::Database* rules_db_;
  const Options options_;
  std::mutex mutex_;
  std::map<std::string, Interest, std::less<>> interest_;  // by factory; guarded by mutex_
  std::chrono::steady_clock::time_point interest_loaded_{};
  std::condition_variable wake_;
  std::map<std::string, std::vector<tsdb::DeviceBatch>> buffered_;  // by factory
  std::size_t buffered_readings_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last
};

}  // namespace factoryops::rules
