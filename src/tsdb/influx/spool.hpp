// The spool of the InfluxDB engine: write bodies that InfluxDB could not take, kept durably
// until they are replayed in order. A Redis list when Redis answers, otherwise a bounded
// directory of fsync'd files. Thread-safe (one internal mutex); lives as long as its store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace factoryops::tsdb::influx {

// One file per batch, named by a growing sequence number. A batch is written to a temporary
// file, fsync'd, renamed into place and the directory fsync'd: a crash leaves either the whole
// batch or none of it.
class DiskSpool {
 public:
  DiskSpool(std::filesystem::path directory, std::int64_t max_bytes);
  // Throws core::Unavailable when the batch would exceed max_bytes or cannot be written.
  void push(std::string_view record);
  std::optional<std::string> front();
  void pop();
  std::int64_t depth() const;
  std::int64_t bytes() const { return bytes_; }

 private:
  std::filesystem::path path_of(std::uint64_t seq) const;

  std::filesystem::path directory_;
  std::int64_t max_bytes_;
  std::int64_t bytes_ = 0;
  std::uint64_t head_ = 0;  // oldest sequence number present
  std::uint64_t next_ = 0;  // next sequence number to write
};

// A Redis list: RPUSH to add, LINDEX 0 to read the oldest, LPOP once replayed.
class RedisSpool {
 public:
  RedisSpool(std::string url, std::string key);
  ~RedisSpool();
  RedisSpool(const RedisSpool&) = delete;
  RedisSpool& operator=(const RedisSpool&) = delete;

  // Each throws core::Unavailable when Redis does not answer.
  void push(std::string_view record);
  std::optional<std::string> front();
  void pop();
  std::int64_t depth();
  bool reachable();

 private:
  void* connection();  // redisContext*, connected and selected, or throws
  void drop_connection();

  std::string host_;
  int port_ = 6379;
  std::string password_;
  int db_ = 0;
  std::string key_;
  void* context_ = nullptr;
  std::int64_t next_attempt_ms_ = 0;  // no reconnect before this (steady clock)
};

// Both spools behind one order: a batch goes to the disk spool while it holds anything (so
// that nothing overtakes what is already there), else to Redis when configured and answering,
// else to disk. Replay takes Redis first, then disk.
class BatchSpool {
 public:
  BatchSpool(std::string redis_url, std::string redis_key, std::filesystem::path directory,
             std::int64_t max_bytes);
  ~BatchSpool();

  // Throws core::Unavailable when neither spool could keep the batch.
  void push(std::string_view record);
  // The oldest batch, or nullopt when nothing is spooled (or Redis holds batches but is down
  // and the disk spool is empty).
  std::optional<std::string> front();
  // Removes the batch front() returned.
  void pop();
  std::int64_t depth();
  std::string describe();

 private:
  enum class Source { kNone, kRedis, kDisk };
  std::mutex mutex_;
  std::unique_ptr<RedisSpool> redis_;
  std::unique_ptr<DiskSpool> disk_;
  std::filesystem::path directory_;
  std::int64_t max_bytes_;
  std::int64_t redis_depth_ = 0;  // last known
  Source front_source_ = Source::kNone;
};

}  // namespace factoryops::tsdb::influx
