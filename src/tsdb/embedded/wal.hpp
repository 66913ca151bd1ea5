// The embedded engine's write-ahead log: one append-only file of records, each framed by its
// length and CRC32, written with write(2) before a write is acknowledged. Not thread-safe: the
// store serialises access. Lives as long as the store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>

namespace factoryops::tsdb::embedded {

class WriteAheadLog {
 public:
  // Opens (creating if missing) the log at `path`. Throws core::Unavailable.
  explicit WriteAheadLog(std::filesystem::path path);
  ~WriteAheadLog();
  WriteAheadLog(const WriteAheadLog&) = delete;
  WriteAheadLog& operator=(const WriteAheadLog&) = delete;

  // Calls `apply` with the payload of every intact record, oldest first. Stops at the first
  // torn or corrupt record (a crash mid-append) and cuts the file there. Returns the count.
  std::size_t replay(const std::function<void(std::span<const std::uint8_t>)>& apply);

  // Appends one record; with `sync`, fdatasync before returning. Throws core::Unavailable,
  // after cutting the file back so no partial record is left behind.
  void append(std::span<const std::uint8_t> payload, bool sync);

  // fdatasync: what was appended survives a power cut. May run while another thread appends.
  void sync();

  // Forgets every record: called once all of them are committed elsewhere.
  void reset();

  std::uint64_t size() const { return size_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace factoryops::tsdb::embedded
