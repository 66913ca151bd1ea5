// The telemetry role's write-ahead log. Every message taken from the broker is appended here
// (write(2): it survives kill -9 of the process) before the broker receives its
// acknowledgement, and a group-commit thread fdatasyncs at least every `sync_interval`, which
// bounds what a power cut can take. The log is a series of segment files; a segment is deleted
// once every record in it is stored. Records left by an earlier run are replayed at start;
// storing a reading twice is harmless (the store keeps one point per series and timestamp).
// Thread-safe: one thread appends, another releases, the commit thread syncs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace factoryops::tsdb::embedded {
class WriteAheadLog;
}

namespace factoryops::mqtt {

struct LogRecord {
  std::uint64_t sequence = 0;
  std::int64_t received_ms = 0;
  std::string topic;
  std::string payload;
};

class IngestLog {
 public:
  struct Options {
    std::filesystem::path directory;
    std::chrono::milliseconds sync_interval{200};
    std::uint64_t segment_bytes = 16u << 20;
  };

  // Opens the directory (creating it). Throws core::Unavailable.
  explicit IngestLog(Options options);
  ~IngestLog();
  IngestLog(const IngestLog&) = delete;
  IngestLog& operator=(const IngestLog&) = delete;

  // Hands every intact record left by an earlier run to `apply`, oldest first. Call once,
  // before the first append(); the records are released like any other.
  std::size_t recover(const std::function<void(LogRecord&&)>& apply);

  // Appends one message; returns its sequence number. Throws core::Unavailable (disk full, …)
  // and leaves no partial record.
  std::uint64_t append(std::int64_t received_ms, std::string_view topic, std::string_view payload);

  // Every record up to and including `sequence` is stored: segments holding only such records go.
  void release(std::uint64_t sequence);

  // fdatasync now (shutdown, tests).
  void sync();

  std::size_t segments() const;

 private:
  struct Segment {
    std::uint64_t id = 0;
    std::uint64_t last_sequence = 0;  // 0: no record yet
    std::shared_ptr<tsdb::embedded::WriteAheadLog> wal;
    bool dirty = false;
  };

  void open_segment(std::uint64_t id);
  void commit_loop(std::stop_token stop);

  const Options options_;
  mutable std::mutex mutex_;
  std::deque<Segment> segments_;  // oldest first; back() takes appends
  std::uint64_t next_sequence_ = 1;
  std::uint64_t released_ = 0;
  std::jthread committer_;  // last
};

}  // namespace factoryops::mqtt
