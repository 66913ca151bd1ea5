#include "tsdb/influx/spool.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <boost/url/parse.hpp>

#include "core/errors.hpp"
#include "core/logging.hpp"

namespace factoryops::tsdb::influx {
namespace {

constexpr std::string_view kSuffix = ".batch";

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw core::Unavailable("spool: cannot write " + path.filename().string() + ": " +
                              std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void fsync_directory(const std::filesystem::path& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

DiskSpool::DiskSpool(std::filesystem::path directory, std::int64_t max_bytes)
    : directory_(std::move(directory)), max_bytes_(max_bytes) {
  std::filesystem::create_directories(directory_);
  std::vector<std::uint64_t> seqs;
  for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".tmp")) {
      // A batch whose write never completed was never acknowledged.
      std::filesystem::remove(entry.path());
      continue;
    }
    if (!name.ends_with(kSuffix)) continue;
    std::uint64_t seq = 0;
    auto stem = std::string_view(name).substr(0, name.size() - kSuffix.size());
    if (std::from_chars(stem.data(), stem.data() + stem.size(), seq).ec != std::errc{}) continue;
    seqs.push_back(seq);
    bytes_ += static_cast<std::int64_t>(entry.file_size());
  }
  std::sort(seqs.begin(), seqs.end());
  head_ = seqs.empty() ? 1 : seqs.front();
  next_ = seqs.empty() ? 1 : seqs.back() + 1;
  // Sequence numbers are dense between head_ and next_ (pop removes only the head).
}

std::filesystem::path DiskSpool::path_of(std::uint64_t seq) const {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu", static_cast<unsigned long long>(seq));
  return directory_ / (std::string(name) + std::string(kSuffix));
}

void DiskSpool::push(std::string_view record) {
  if (bytes_ + static_cast<std::int64_t>(record.size()) > max_bytes_) {
    throw core::Unavailable("telemetry spool is full (" + std::to_string(bytes_) + " of " +
                            std::to_string(max_bytes_) + " bytes)");
  }
  auto final_path = path_of(next_);
  auto tmp_path = final_path;
  tmp_path += ".tmp";
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw core::Unavailable("spool: cannot create a batch file: " + std::string(std::strerror(errno)));
  try {
    write_all(fd, record, tmp_path);
    if (::fsync(fd) != 0)
      throw core::Unavailable("spool: fsync failed: " + std::string(std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    std::filesystem::remove(tmp_path);
    throw;
  }
  ::close(fd);
  std::filesystem::rename(tmp_path, final_path);
  fsync_directory(directory_);
  bytes_ += static_cast<std::int64_t>(record.size());
  ++next_;
}

std::optional<std::string> DiskSpool::front() {
  if (head_ >= next_) return std::nullopt;
  std::ifstream in(path_of(head_), std::ios::binary);
  if (!in) throw core::Unavailable("spool: cannot read " + path_of(head_).filename().string());
  std::ostringstream data;
  data << in.rdbuf();
  return std::move(data).str();
}

void DiskSpool::pop() {
  if (head_ >= next_) return;
  auto path = path_of(head_);
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  std::filesystem::remove(path);
  if (!ec) bytes_ -= static_cast<std::int64_t>(size);
  ++head_;
}

std::int64_t DiskSpool::depth() const {
  return static_cast<std::int64_t>(next_ - head_);
}

RedisSpool::RedisSpool(std::string url, std::string key) : key_(std::move(key)) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (parsed->scheme() != "redis"))
    throw core::Invalid("redis_url", "expected redis://host:port/db");
  host_ = std::string(parsed->encoded_host());
  if (host_.empty()) host_ = "127.0.0.1";
  if (parsed->has_port()) port_ = static_cast<int>(parsed->port_number());
  if (parsed->has_password()) password_ = parsed->password();
  std::string path = parsed->path();
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  if (!path.empty()) {
    if (std::from_chars(path.data(), path.data() + path.size(), db_).ec != std::errc{}) {
      throw core::Invalid("redis_url", "the path must be a database number");
    }
  }
}

RedisSpool::~RedisSpool() {
  drop_connection();
}

void RedisSpool::drop_connection() {
  if (context_) redisFree(static_cast<redisContext*>(context_));
  context_ = nullptr;
}

void* RedisSpool::connection() {
  if (context_) return context_;
  if (steady_ms() < next_attempt_ms_) throw core::Unavailable("redis: not answering");
  // Failed attempts are not repeated for a second: a down Redis must not slow every write.
  next_attempt_ms_ = steady_ms() + 1000;
  timeval connect_timeout{0, 500'000};
  redisContext* c = redisConnectWithTimeout(host_.c_str(), port_, connect_timeout);
  if (!c || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    throw core::Unavailable("redis: " + why);
  }
  timeval command_timeout{2, 0};
  redisSetTimeout(c, command_timeout);
  context_ = c;
  auto check = [&](redisReply* reply) {
    bool ok = reply && reply->type != REDIS_REPLY_ERROR;
    std::string why = reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer";
    if (reply) freeReplyObject(reply);
    if (!ok) {
      drop_connection();
      throw core::Unavailable("redis: " + why);
    }
  };
  if (!password_.empty()) {
    check(static_cast<redisReply*>(redisCommand(c, "AUTH %b", password_.data(), password_.size())));
  }
  if (db_ != 0) check(static_cast<redisReply*>(redisCommand(c, "SELECT %d", db_)));
  return context_;
}

namespace {

// Runs one command; drops the connection and throws Unavailable on any failure.
struct ReplyGuard {
  redisReply* reply;
  ~ReplyGuard() {
    if (reply) freeReplyObject(reply);
  }
};

}  // namespace

void RedisSpool::push(std::string_view record) {
  auto* c = static_cast<redisContext*>(connection());
  ReplyGuard r{static_cast<redisReply*>(
      redisCommand(c, "RPUSH %b %b", key_.data(), key_.size(), record.data(), record.size()))};
  if (!r.reply || r.reply->type != REDIS_REPLY_INTEGER) {
    drop_connection();
    throw core::Unavailable("redis: RPUSH failed");
  }
}

std::optional<std::string> RedisSpool::front() {
  auto* c = static_cast<redisContext*>(connection());
  ReplyGuard r{static_cast<redisReply*>(redisCommand(c, "LINDEX %b 0", key_.data(), key_.size()))};
  if (!r.reply || (r.reply->type != REDIS_REPLY_STRING && r.reply->type != REDIS_REPLY_NIL)) {
    drop_connection();
    throw core::Unavailable("redis: LINDEX failed");
  }
  if (r.reply->type == REDIS_REPLY_NIL) return std::nullopt;
  return std::string(r.reply->str, r.reply->len);
}

void RedisSpool::pop() {
  auto* c = static_cast<redisContext*>(connection());
  ReplyGuard r{static_cast<redisReply*>(redisCommand(c, "LPOP %b", key_.data(), key_.size()))};
  if (!r.reply || r.reply->type == REDIS_REPLY_ERROR) {
    drop_connection();
    throw core::Unavailable("redis: LPOP failed");
  }
}

std::int64_t RedisSpool::depth() {
  auto* c = static_cast<redisContext*>(connection());
  ReplyGuard r{static_cast<redisReply*>(redisCommand(c, "LLEN %b", key_.data(), key_.size()))};
  if (!r.reply || r.reply->type != REDIS_REPLY_INTEGER) {
    drop_connection();
    throw core::Unavailable("redis: LLEN failed");
  }
  return r.reply->integer;
}

bool RedisSpool::reachable() {
  try {
    connection();
    return true;
  } catch (const core::Unavailable&) {
    return false;
  }
}

BatchSpool::BatchSpool(std::string redis_url, std::string redis_key, std::filesystem::path directory,
                       std::int64_t max_bytes)
    : directory_(std::move(directory)), max_bytes_(max_bytes) {
  if (!redis_url.empty()) {
    redis_ = std::make_unique<RedisSpool>(std::move(redis_url), std::move(redis_key));
    try {
      redis_depth_ = redis_->depth();
    } catch (const core::Unavailable& e) {
      log::warn("telemetry spool: Redis is not answering; using the disk spool", {{"error", e.what()}});
    }
  }
  if (!directory_.empty()) disk_ = std::make_unique<DiskSpool>(directory_, max_bytes_);
}

BatchSpool::~BatchSpool() = default;

void BatchSpool::push(std::string_view record) {
  std::lock_guard lock(mutex_);
  if (redis_ && (!disk_ || disk_->depth() == 0)) {
    try {
      redis_->push(record);
      ++redis_depth_;
      return;
    } catch (const core::Unavailable& e) {
      if (!disk_) throw;
      log::warn("telemetry spool: Redis refused a batch; spooling it on disk", {{"error", e.what()}});
    }
  }
  if (!disk_)
    throw core::Unavailable("telemetry spool: no spool is configured (neither Redis nor a directory)");
  disk_->push(record);
}

std::optional<std::string> BatchSpool::front() {
  std::lock_guard lock(mutex_);
  front_source_ = Source::kNone;
  if (redis_) {
    try {
      redis_depth_ = redis_->depth();
      if (redis_depth_ > 0) {
        auto record = redis_->front();
        if (record) {
          front_source_ = Source::kRedis;
          return record;
        }
      }
    } catch (const core::Unavailable&) {
      // Redis is down: what it holds waits for it; the disk spool can still drain.
    }
  }
  if (disk_) {
    auto record = disk_->front();
    if (record) front_source_ = Source::kDisk;
    return record;
  }
  return std::nullopt;
}

void BatchSpool::pop() {
  std::lock_guard lock(mutex_);
  if (front_source_ == Source::kRedis) {
    redis_->pop();
    redis_depth_ = std::max<std::int64_t>(0, redis_depth_ - 1);
  } else if (front_source_ == Source::kDisk) {
    disk_->pop();
  }
  front_source_ = Source::kNone;
}

std::int64_t BatchSpool::depth() {
  std::lock_guard lock(mutex_);
  return redis_depth_ + (disk_ ? disk_->depth() : 0);
}

std::string BatchSpool::describe() {
  std::lock_guard lock(mutex_);
  std::string out;
  if (redis_) out += "redis " + std::to_string(redis_depth_);
  if (disk_) {
    if (!out.empty()) out += ", ";
    out += "disk " + std::to_string(disk_->depth()) + " (" + std::to_string(disk_->bytes()) + " bytes)";
  }
  return out;
}

}  // namespace factoryops::tsdb::influx
