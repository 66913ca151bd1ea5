// The last rejected payloads of each device (ingest_rejections, at most kKeptPerDevice rows per
// device), so a firmware developer can see why a message was refused. record() only queues:
// one background thread writes, so ingestion never waits on the metadata DB. Thread-safe; the
// Database must outlive the log; the destructor writes what is queued (bounded) and stops.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "db/database.hpp"

namespace factoryops::ingest {

constexpr std::size_t kKeptPerDevice = 20;

struct Rejection {
  std::int64_t received_at_ms = 0;
  std::string reason;  // a reason name of docs/api-telemetry.md
  std::string message;
  std::string payload_head;  // valid UTF-8, at most 512 bytes of the payload
};

class RejectionLog {
 public:
  struct Options {
    std::size_t max_queued = 2000;  // older queued rejections are dropped beyond this (counted)
    std::chrono::milliseconds retry_delay{2000};
  };

  explicit RejectionLog(db::Database& database);
  RejectionLog(db::Database& database, Options options);
  ~RejectionLog();
  RejectionLog(const RejectionLog&) = delete;
  RejectionLog& operator=(const RejectionLog&) = delete;

  // Queues one rejection of the device; never blocks on the database.
  void record(const core::FactoryId& factory, const core::DeviceId& device, Rejection rejection);

  // The device's last kKeptPerDevice rejections, newest first (reads the database; throws
  // core::Unavailable when it is down).
  std::vector<Rejection> recent(const core::FactoryId& factory, const core::DeviceId& device);

  // Writes everything queued now, on the caller's thread (tests, orderly shutdown). Entries
  // that cannot be written stay queued.
  void flush();

 private:
  struct Entry {
    core::FactoryId factory;
    core::DeviceId device;
    Rejection rejection;
  };

  void run(std::stop_token stop);
  // Writes `batch`; returns how many were written before a failure.
  std::size_t write(const std::vector<Entry>& batch);

  db::Database& database_;
  const Options options_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<Entry> queue_;
  std::mutex write_mutex_;      // one writer at a time (worker or flush)
  bool outage_logged_ = false;  // worker thread only: one warning per outage
  std::jthread worker_;         // last: starts after every other member exists
};

}  // namespace factoryops::ingest
