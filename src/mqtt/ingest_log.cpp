#include "mqtt/ingest_log.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "tsdb/embedded/wal.hpp"

namespace factoryops::mqtt {

namespace {

constexpr std::string_view kPrefix = "segment-";
constexpr std::string_view kSuffix = ".log";

std::filesystem::path segment_path(const std::filesystem::path& dir, std::uint64_t id) {
  return dir / (std::string(kPrefix) + std::to_string(id) + std::string(kSuffix));
}

std::optional<std::uint64_t> segment_id(const std::string& name) {
  if (name.size() <= kPrefix.size() + kSuffix.size() || name.rfind(kPrefix, 0) != 0 ||
      name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
    return std::nullopt;
  std::uint64_t id = 0;
  const char* first = name.data() + kPrefix.size();
  const char* last = name.data() + name.size() - kSuffix.size();
  auto [end, ec] = std::from_chars(first, last, id);
  if (ec != std::errc() || end != last) return std::nullopt;
  return id;
}

// Record layout: received_ms (8 bytes LE), topic length (2 bytes LE), topic, payload.
std::vector<std::uint8_t> encode(std::int64_t received_ms, std::string_view topic, std::string_view payload) {
  std::vector<std::uint8_t> out(10 + topic.size() + payload.size());
  auto ms = static_cast<std::uint64_t>(received_ms);
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (8 * i));
  out[8] = static_cast<std::uint8_t>(topic.size() & 0xff);
  out[9] = static_cast<std::uint8_t>(topic.size() >> 8);
  std::memcpy(out.data() + 10, topic.data(), topic.size());
  if (!payload.empty()) std::memcpy(out.data() + 10 + topic.size(), payload.data(), payload.size());
  return out;
}

std::optional<LogRecord> decode(std::span<const std::uint8_t> in) {
  if (in.size() < 10) return std::nullopt;
  std::uint64_t ms = 0;
  for (int i = 0; i < 8; ++i) ms |= static_cast<std::uint64_t>(in[static_cast<std::size_t>(i)]) << (8 * i);
  std::size_t topic_size = in[8] | (static_cast<std::size_t>(in[9]) << 8);
  if (10 + topic_size > in.size()) return std::nullopt;
  LogRecord record;
  record.received_ms = static_cast<std::int64_t>(ms);
  record.topic.assign(reinterpret_cast<const char*>(in.data()) + 10, topic_size);
  record.payload.assign(reinterpret_cast<const char*>(in.data()) + 10 + topic_size,
                        in.size() - 10 - topic_size);
  return record;
}

}  // namespace

IngestLog::IngestLog(Options options) : options_(std::move(options)) {
  std::error_code ec;
  std::filesystem::create_directories(options_.directory, ec);
  if (ec)
    throw core::Unavailable("ingest log: cannot create " + options_.directory.string() + ": " + ec.message());
  std::vector<std::uint64_t> ids;
  for (const auto& entry : std::filesystem::directory_iterator(options_.directory)) {
    if (auto id = segment_id(entry.path().filename().string())) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  for (auto id : ids) open_segment(id);
  open_segment(ids.empty() ? 1 : ids.back() + 1);
  committer_ = std::jthread([this](std::stop_token stop) { commit_loop(stop); });
}

IngestLog::~IngestLog() {
  committer_.request_stop();
  if (committer_.joinable()) committer_.join();
  try {
    sync();
  } catch (const std::exception& e) {
    log::error("ingest log: final sync failed", {{"error", std::string_view(e.what())}});
  }
}

void IngestLog::open_segment(std::uint64_t id) {
  Segment segment;
  segment.id = id;
  segment.wal = std::make_shared<tsdb::embedded::WriteAheadLog>(segment_path(options_.directory, id));
  segments_.push_back(std::move(segment));
}

std::size_t IngestLog::recover(const std::function<void(LogRecord&&)>& apply) {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (auto& segment : segments_) {
    if (&segment == &segments_.back()) break;  // the fresh segment of this run
    segment.wal->replay([&](std::span<const std::uint8_t> bytes) {
      auto record = decode(bytes);
      if (!record) return;
      record->sequence = next_sequence_++;
      segment.last_sequence = record->sequence;
      ++count;
      apply(std::move(*record));
    });
  }
  // Segments of an earlier run that held nothing intact can go at once.
  while (segments_.size() > 1 && segments_.front().last_sequence == 0) {
    std::filesystem::remove(segment_path(options_.directory, segments_.front().id));
    segments_.pop_front();
  }
  return count;
}

std::uint64_t IngestLog::append(std::int64_t received_ms, std::string_view topic, std::string_view payload) {
  auto bytes = encode(received_ms, topic, payload);
  std::lock_guard lock(mutex_);
  Segment* current = &segments_.back();
  if (current->wal->size() >= options_.segment_bytes) {
    open_segment(current->id + 1);
    current = &segments_.back();
  }
  current->wal->append(bytes, false);
  current->dirty = true;
  current->last_sequence = next_sequence_;
  return next_sequence_++;
}

void IngestLog::release(std::uint64_t sequence) {
  std::vector<std::uint64_t> doomed;
  {
    std::lock_guard lock(mutex_);
    released_ = std::max(released_, sequence);
    // Never the segment taking appends; only segments whose every record is stored.
    while (segments_.size() > 1 && segments_.front().last_sequence <= released_) {
      doomed.push_back(segments_.front().id);
      segments_.pop_front();
    }
  }
  for (auto id : doomed) {
    std::error_code ec;
    std::filesystem::remove(segment_path(options_.directory, id), ec);
    if (ec) log::warn("ingest log: cannot remove a stored segment", {{"error", ec.message()}});
  }
}

void IngestLog::sync() {
  std::vector<std::shared_ptr<tsdb::embedded::WriteAheadLog>> pending;
  {
    std::lock_guard lock(mutex_);
    for (auto& segment : segments_) {
      if (!segment.dirty) continue;
      segment.dirty = false;
      pending.push_back(segment.wal);
    }
  }
  // Outside the lock: appends go on while the disk flushes.
  for (auto& wal : pending) wal->sync();
}

void IngestLog::commit_loop(std::stop_token stop) {
  std::mutex sleep_mutex;
  std::condition_variable_any sleeper;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(sleep_mutex);
      sleeper.wait_for(lock, stop, options_.sync_interval, [] { return false; });
    }
    try {
      sync();
    } catch (const std::exception& e) {
      log::error("ingest log: group commit failed", {{"error", std::string_view(e.what())}});
    }
  }
}

std::size_t IngestLog::segments() const {
  std::lock_guard lock(mutex_);
  return segments_.size();
}

}  // namespace factoryops::mqtt
