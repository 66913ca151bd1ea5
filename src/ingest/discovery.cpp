#include "ingest/discovery.hpp"

#include <algorithm>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "devices/device_repository.hpp"

namespace factoryops::ingest {
namespace {

core::metrics::Gauge& pending_gauge() {
  static auto& gauge =
      core::metrics::Registry::global()
          .gauge("ingest_discovery_pending",
                 "Parameter discoveries and last-seen refreshes waiting for the metadata database")
          .labels({});
  return gauge;
}

core::metrics::Counter& dropped_counter() {
  static auto& counter = core::metrics::Registry::global()
                             .counter("ingest_discovery_dropped_total",
                                      "Discoveries not queued because the queue was full (they are retried "
                                      "when the key is seen again)")
                             .labels({});
  return counter;
}

core::metrics::Counter& discovered_counter() {
  static auto& counter =
      core::metrics::Registry::global()
          .counter("ingest_parameters_discovered_total", "Parameter upserts written to the metadata database")
          .labels({});
  return counter;
}

}  // namespace

ParameterDiscovery::ParameterDiscovery(db::Database& database) : ParameterDiscovery(database, Options{}) {}

ParameterDiscovery::ParameterDiscovery(db::Database& database, Options options)
    : database_(database), options_(options), worker_([this](std::stop_token stop) { run(stop); }) {}

ParameterDiscovery::~ParameterDiscovery() {
  worker_.request_stop();
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (!flush()) log::warn("parameter discoveries not written at shutdown", {{"pending", pending()}});
}

void ParameterDiscovery::observe(const core::FactoryId& factory, const core::DeviceId& device,
                                 std::span<const KeySeen> keys, std::int64_t seen_at_ms) {
  const auto now = Clock::now();
  bool queued = false;
  {
    std::lock_guard lock(mutex_);
    scratch_.assign(factory.str()).append(1, '/').append(device.str());
    auto known_device = known_.find(std::string_view(scratch_));
    if (known_device == known_.end()) {
      if (known_keys_ >= options_.max_known) {
        known_.clear();
        known_keys_ = 0;
      }
      known_device = known_.try_emplace(scratch_).first;
    }
    auto& remembered = known_device->second;
    std::optional<ParameterKey> pk;  // built only when something is due: most readings need nothing
    for (const auto& seen : keys) {
      auto it = remembered.keys.find(std::string_view(seen.key));
      if (it != remembered.keys.end() && now - it->second < options_.refresh_interval) continue;
      if (!pk) pk.emplace(ParameterKey{factory.str(), device.str(), {}});
      pk->key = seen.key;
      auto pending = pending_parameters_.find(*pk);
      if (pending != pending_parameters_.end()) {
        pending->second.seen_at_ms = std::max(pending->second.seen_at_ms, seen_at_ms);
        pending->second.type = seen.type;
      } else if (pending_parameters_.size() >= options_.max_pending) {
        // Not remembered as known either, so the key is queued again when next seen.
        dropped_counter().inc();
        continue;
      } else {
        pending_parameters_.emplace(*pk, PendingParameter{seen.type, seen_at_ms});
      }
      if (it != remembered.keys.end()) {
        it->second = now;
      } else {
        if (known_keys_ >= options_.max_known) {  // a device inventing keys without end
          known_keys_ -= remembered.keys.size();
          remembered.keys.clear();
        }
        remembered.keys.emplace(seen.key, now);
        ++known_keys_;
      }
      queued = true;
    }
    if (!remembered.refreshed || now - *remembered.refreshed >= options_.refresh_interval) {
      auto& latest = pending_devices_[DeviceKey{factory.str(), device.str()}];
      latest = std::max(latest, seen_at_ms);
      remembered.refreshed = now;
      queued = true;
    }
    if (queued)
      pending_gauge().set(static_cast<double>(pending_parameters_.size() + pending_devices_.size()));
  }
  if (queued) wake_.notify_one();
}

void ParameterDiscovery::set_status(const core::FactoryId& factory, const core::DeviceId& device, bool online,
                                    std::int64_t at_ms) {
  {
    std::lock_guard lock(mutex_);
    DeviceKey dk{factory.str(), device.str()};
    auto& slot = pending_status_[dk];
    if (at_ms >= slot.second) slot = {online, at_ms};
    // The next reading after a status change refreshes last_seen_at (and 'online') at once.
    scratch_.assign(factory.str()).append(1, '/').append(device.str());
    if (auto it = known_.find(std::string_view(scratch_)); it != known_.end()) it->second.refreshed.reset();
    update_pending_gauge();
  }
  wake_.notify_one();
}

void ParameterDiscovery::forget(const core::FactoryId& factory, const core::DeviceId& device) {
  std::lock_guard lock(mutex_);
  scratch_.assign(factory.str()).append(1, '/').append(device.str());
  if (auto it = known_.find(std::string_view(scratch_)); it != known_.end()) {
    known_keys_ -= it->second.keys.size();
    known_.erase(it);
  }
}

std::size_t ParameterDiscovery::pending() const {
  std::lock_guard lock(mutex_);
  return pending_parameters_.size() + pending_devices_.size() + pending_status_.size();
}

void ParameterDiscovery::update_pending_gauge() {
  pending_gauge().set(
      static_cast<double>(pending_parameters_.size() + pending_devices_.size() + pending_status_.size()));
}

bool ParameterDiscovery::flush() {
  std::lock_guard writer(write_mutex_);
  std::map<ParameterKey, PendingParameter> parameters;
  std::map<DeviceKey, std::int64_t> devices;
  std::map<DeviceKey, std::pair<bool, std::int64_t>> statuses;
  {
    std::lock_guard lock(mutex_);
    parameters.swap(pending_parameters_);
    devices.swap(pending_devices_);
    statuses.swap(pending_status_);
  }
  if (parameters.empty() && devices.empty() && statuses.empty()) return true;
  devices::DeviceRepository repository(database_);
  bool failed = false;
  // Written entries are erased, so whatever is left when the database fails goes back.
  for (auto it = parameters.begin(); it != parameters.end() && !failed;) {
    try {
      repository.upsert_parameter(core::FactoryId(it->first.factory), core::DeviceId(it->first.device),
                                  it->first.key, data_type_name(it->second.type), it->second.seen_at_ms);
      discovered_counter().inc();
    } catch (const core::Unavailable& e) {
      if (!outage_logged_)
        log::warn("parameter discovery waiting for the metadata database",
                  {{"error", std::string_view(e.what())}});
      outage_logged_ = true;
      failed = true;
      continue;
    } catch (const std::exception& e) {
      // The device was deleted meanwhile (foreign key): nothing to record.
      log::warn(
          "parameter discovery skipped",
          {{"device_id", it->first.device}, {"key", it->first.key}, {"error", std::string_view(e.what())}});
    }
    it = parameters.erase(it);
  }
  for (auto it = devices.begin(); it != devices.end() && !failed;) {
    try {
      auto conn = database_.acquire();
      conn->execute(
          "UPDATE devices SET last_seen_at = ?, status = 'online' WHERE factory_id = ? AND device_id = ? "
          "AND (last_seen_at IS NULL OR last_seen_at < ? OR status <> 'online')",
          {it->second, it->first.first, it->first.second, it->second});
    } catch (const core::Unavailable& e) {
      if (!outage_logged_)
        log::warn("device last-seen waiting for the metadata database",
                  {{"error", std::string_view(e.what())}});
      outage_logged_ = true;
      failed = true;
      continue;
    } catch (const std::exception& e) {
      log::warn("device last-seen not written",
                {{"device_id", it->first.second}, {"error", std::string_view(e.what())}});
    }
    it = devices.erase(it);
  }
  for (auto it = statuses.begin(); it != statuses.end() && !failed;) {
    try {
      auto conn = database_.acquire();
      const auto& [online, at_ms] = it->second;
      if (online) {
        conn->execute(
            "UPDATE devices SET status = 'online', last_seen_at = CASE WHEN last_seen_at IS NULL OR "
            "last_seen_at < ? THEN ? ELSE last_seen_at END WHERE factory_id = ? AND device_id = ?",
            {at_ms, at_ms, it->first.first, it->first.second});
      } else {
        conn->execute("UPDATE devices SET status = 'offline' WHERE factory_id = ? AND device_id = ?",
                      {it->first.first, it->first.second});
      }
    } catch (const core::Unavailable& e) {
      if (!outage_logged_)
        log::warn("device status waiting for the metadata database", {{"error", std::string_view(e.what())}});
      outage_logged_ = true;
      failed = true;
      continue;
    } catch (const std::exception& e) {
      log::warn("device status not written",
                {{"device_id", it->first.second}, {"error", std::string_view(e.what())}});
    }
    it = statuses.erase(it);
  }
  if (!failed && outage_logged_) {
    log::info("parameter discovery resumed: the metadata database answers again");
    outage_logged_ = false;
  }
  std::lock_guard lock(mutex_);
  for (auto& [key, value] : parameters) {
    auto [slot, inserted] = pending_parameters_.try_emplace(key, value);
    if (!inserted) slot->second.seen_at_ms = std::max(slot->second.seen_at_ms, value.seen_at_ms);
  }
  for (auto& [key, seen] : devices) {
    auto& slot = pending_devices_[key];
    slot = std::max(slot, seen);
  }
  for (auto& [key, status] : statuses) {
    // A newer status queued meanwhile wins.
    auto [slot, inserted] = pending_status_.try_emplace(key, status);
    if (!inserted && slot->second.second < status.second) slot->second = status;
  }
  update_pending_gauge();
  return !failed;
}

void ParameterDiscovery::run(std::stop_token stop) {
  auto backoff = options_.min_backoff;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, stop, [this] {
        return !pending_parameters_.empty() || !pending_devices_.empty() || !pending_status_.empty();
      });
      if (stop.stop_requested()) return;
    }
    if (flush()) {
      backoff = options_.min_backoff;
      continue;
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, stop, backoff, [] { return false; });
    backoff = std::min(options_.max_backoff, backoff * 2);
  }
}

}  // namespace factoryops::ingest
