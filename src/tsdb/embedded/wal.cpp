#include "tsdb/embedded/wal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace factoryops::tsdb::embedded {
namespace {

constexpr std::size_t kHeader = 8;
// A record larger than this is treated as corruption rather than allocated.
constexpr std::uint32_t kMaxRecord = 1u << 30;

std::uint32_t crc_of(std::span<const std::uint8_t> bytes) {
  return static_cast<std::uint32_t>(
      crc32(crc32(0L, nullptr, 0), bytes.data(), static_cast<uInt>(bytes.size())));
}

void store_u32(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t load_u32(const std::uint8_t* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(in[i]) << (8 * i);
  return v;
}

[[noreturn]] void fail(const std::string& what) {
  throw core::Unavailable("write-ahead log: " + what + ": " + std::strerror(errno));
}

}  // namespace

WriteAheadLog::WriteAheadLog(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("open");
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("stat");
  size_ = static_cast<std::uint64_t>(st.st_size);
}

WriteAheadLog::~WriteAheadLog() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t WriteAheadLog::replay(const std::function<void(std::span<const std::uint8_t>)>& apply) {
  std::vector<std::uint8_t> data(size_);
  std::size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::pread(fd_, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read");
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  std::size_t pos = 0;
  std::size_t records = 0;
  while (pos + kHeader <= got) {
    std::uint32_t len = load_u32(data.data() + pos);
    std::uint32_t crc = load_u32(data.data() + pos + 4);
    if (len > kMaxRecord || pos + kHeader + len > got) break;
    std::span<const std::uint8_t> payload(data.data() + pos + kHeader, len);
    if (crc_of(payload) != crc) break;
    apply(payload);
    ++records;
    pos += kHeader + len;
  }
  if (pos < size_) {
    // The tail is a record cut short by a crash: drop it so new records follow intact ones.
    if (::ftruncate(fd_, static_cast<off_t>(pos)) != 0) fail("truncate");
    size_ = pos;
  }
  return records;
}

void WriteAheadLog::append(std::span<const std::uint8_t> payload, bool sync) {
  std::vector<std::uint8_t> header(kHeader);
  store_u32(header.data(), static_cast<std::uint32_t>(payload.size()));
  store_u32(header.data() + 4, crc_of(payload));
  struct iovec parts[2] = {{header.data(), kHeader},
                           {const_cast<std::uint8_t*>(payload.data()), payload.size()}};
  std::size_t total = kHeader + payload.size();
  std::size_t written = 0;
  int part = 0;
  while (written < total) {
    ssize_t n = ::writev(fd_, parts + part, 2 - part);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      // Best effort: a torn tail is also dropped by the next replay.
      [[maybe_unused]] int cut = ::ftruncate(fd_, static_cast<off_t>(size_));
      errno = saved;
      fail("write");
    }
    written += static_cast<std::size_t>(n);
    // Advance the iovecs past what the kernel took (short writes are rare but legal).
    auto left = static_cast<std::size_t>(n);
    while (part < 2 && left >= parts[part].iov_len) {
      left -= parts[part].iov_len;
      ++part;
    }
    if (part < 2) {
      parts[part].iov_base = static_cast<std::uint8_t*>(parts[part].iov_base) + left;
      parts[part].iov_len -= left;
    }
  }
  if (sync && ::fdatasync(fd_) != 0) fail("fdatasync");
  size_ += total;
}

void WriteAheadLog::sync() {
  if (::fdatasync(fd_) != 0) fail("fdatasync");
}

void WriteAheadLog::reset() {
  if (::ftruncate(fd_, 0) != 0) fail("truncate");
  size_ = 0;
}

}  // namespace factoryops::tsdb::embedded
