#include "ingest/rejection_log.hpp"

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "ingest/payload.hpp"

namespace factoryops::ingest {
namespace {

// The table has one text column for the reason; it holds "<reason>: <message>" (cut to fit
// VARCHAR(255)), and recent() splits it again.
constexpr std::size_t kReasonColumnChars = 255;
constexpr std::size_t kWriteBatch = 100;

core::metrics::Counter& dropped_counter() {
  static auto& counter = core::metrics::Registry::global()
                             .counter("ingest_rejection_log_dropped_total",
                                      "Rejections not recorded because the queue to the database was full")
                             .labels({});
  return counter;
}

std::string reason_column(const Rejection& r) {
  std::string text = r.reason;
  if (!r.message.empty()) text += ": " + r.message;
  return utf8_head(text, kReasonColumnChars);
}

}  // namespace

RejectionLog::RejectionLog(db::Database& database) : RejectionLog(database, Options{}) {}

RejectionLog::RejectionLog(db::Database& database, Options options)
    : database_(database), options_(options), worker_([this](std::stop_token stop) { run(stop); }) {}

RejectionLog::~RejectionLog() {
  worker_.request_stop();
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  try {
    flush();
  } catch (const std::exception& e) {
    log::warn("ingest rejections not recorded at shutdown", {{"error", std::string_view(e.what())}});
  }
}

void RejectionLog::record(const core::FactoryId& factory, const core::DeviceId& device, Rejection rejection) {
  {
    std::lock_guard lock(mutex_);
    // Only the last kKeptPerDevice of a device survive in the table, so a device that floods
    // the log replaces its own queued entries instead of costing writes (or other devices' rows).
    std::size_t same_device = 0;
    auto oldest = queue_.end();
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->device == device && it->factory == factory) {
        if (same_device++ == 0) oldest = it;
      }
    }
    if (same_device >= kKeptPerDevice) {
      queue_.erase(oldest);
    } else if (queue_.size() >= options_.max_queued) {
      queue_.pop_front();
      dropped_counter().inc();
    }
    queue_.push_back(Entry{factory, device, std::move(rejection)});
  }
  wake_.notify_one();
}

std::size_t RejectionLog::write(const std::vector<Entry>& batch) {
  std::size_t written = 0;
  auto conn = database_.acquire();
  for (const auto& entry : batch) {
    try {
      const auto& factory = entry.factory.str();
      const auto& device = entry.device.str();
      conn->execute(
          "INSERT INTO ingest_rejections (factory_id, device_id, received_at, reason, payload_head) "
          "VALUES (?, ?, ?, ?, ?)",
          {factory, device, entry.rejection.received_at_ms, reason_column(entry.rejection),
           entry.rejection.payload_head});
      auto cutoff = conn->query_one(
          "SELECT id FROM ingest_rejections WHERE factory_id = ? AND device_id = ? ORDER BY id DESC "
          "LIMIT 1 OFFSET " +
              std::to_string(kKeptPerDevice),
          {factory, device});
      if (cutoff) {
        conn->execute("DELETE FROM ingest_rejections WHERE factory_id = ? AND device_id = ? AND id <= ?",
                      {factory, device, cutoff->get_int(0)});
      }
    } catch (const core::Unavailable&) {
      return written;
    } catch (const std::exception& e) {
      // The device was deleted meanwhile (foreign key), or the row is unacceptable: skip it.
      log::warn("ingest rejection not recorded",
                {{"device_id", entry.device.str()}, {"error", std::string_view(e.what())}});
    }
    ++written;
  }
  return written;
}

void RejectionLog::flush() {
  std::lock_guard writer(write_mutex_);
  while (true) {
    std::vector<Entry> batch;
    {
      std::lock_guard lock(mutex_);
      while (!queue_.empty() && batch.size() < kWriteBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty()) return;
    std::size_t written = 0;
    try {
      written = write(batch);
    } catch (const core::Unavailable&) {
      written = 0;  // acquiring a connection failed
    }
    if (written < batch.size()) {
      std::lock_guard lock(mutex_);
      for (std::size_t i = batch.size(); i > written; --i) {
        if (queue_.size() >= options_.max_queued) {
          dropped_counter().inc();
          continue;
        }
        queue_.push_front(std::move(batch[i - 1]));
      }
      throw core::Unavailable("the metadata database did not accept the ingest rejections");
    }
  }
}

void RejectionLog::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, stop, [this] { return !queue_.empty(); });
      if (stop.stop_requested()) return;
    }
    try {
      flush();
      if (outage_logged_) log::info("ingest rejections are recorded again");
      outage_logged_ = false;
    } catch (const std::exception& e) {
      if (!outage_logged_)
        log::warn("ingest rejections waiting for the metadata database",
                  {{"error", std::string_view(e.what())}});
      outage_logged_ = true;
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, options_.retry_delay, [] { return false; });
    }
  }
}

std::vector<Rejection> RejectionLog::recent(const core::FactoryId& factory, const core::DeviceId& device) {
  auto conn = database_.acquire();
  std::vector<Rejection> out;
  for (const auto& row :
       conn->query("SELECT received_at, reason, payload_head FROM ingest_rejections WHERE factory_id = ? AND "
                   "device_id = ? ORDER BY id DESC LIMIT " +
                       std::to_string(kKeptPerDevice),
                   {factory.str(), device.str()})) {
    Rejection r;
    r.received_at_ms = row.get_int(0);
    std::string text = row.get_string(1);
    auto colon = text.find(": ");
    if (colon == std::string::npos) {
      r.reason = std::move(text);
    } else {
      r.reason = text.substr(0, colon);
      r.message = text.substr(colon + 2);
    }
    r.payload_head = row.get_string(2);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace factoryops::ingest
