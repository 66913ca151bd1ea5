// Applies each factory's telemetry retention policy to the store: once when started, then
// every `period` on a background thread, so expired raw points and rollups are deleted without
// anyone asking. A failure (metadata store or engine down) is logged and retried next cycle;
// nothing here ever stops the process. start/stop are for the owning thread; run_once is
// thread-safe. The store and the policy source must outlive the scheduler.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/ids.hpp"
#include "tsdb/store.hpp"

namespace factoryops::tsdb {

// Deleting whole days of data needs no finer rhythm than a few times a day; a day's worth of
// expired chunks is removed within six hours of expiring.
constexpr std::chrono::milliseconds kRetentionPeriod = std::chrono::hours(6);

struct RetentionRun {
  int factories = 0;  // policies applied
  int failures = 0;   // factories whose apply_retention threw, plus 1 when the policies could not be read
};

class RetentionScheduler {
 public:
  using PolicySource = std::function<std::vector<std::pair<core::FactoryId, RetentionPolicy>>()>;
  using Clock = std::function<std::int64_t()>;  // epoch milliseconds

  RetentionScheduler(TelemetryStore& store, PolicySource policies,
                     std::chrono::milliseconds period = kRetentionPeriod, Clock now_ms = {});
  ~RetentionScheduler();
  RetentionScheduler(const RetentionScheduler&) = delete;
  RetentionScheduler& operator=(const RetentionScheduler&) = delete;

  // Starts the thread; its first cycle runs at once.
  void start();
  // Wakes the thread and joins it (a cycle in progress finishes its current factory first).
  void stop();

  // One cycle: every factory's policy, each on its own (one failing does not skip the rest).
  // Never throws.
  RetentionRun run_once();

  std::int64_t cycles() const;

 private:
  void loop();

  TelemetryStore& store_;
  PolicySource policies_;
  std::chrono::milliseconds period_;
  Clock now_ms_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::int64_t cycles_ = 0;
  std::thread thread_;
};

}  // namespace factoryops::tsdb
