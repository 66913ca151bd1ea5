// Parameter discovery (HLD §3.3): remembers which (factory, device, key) exist, queues a
// device_parameters upsert for each new key and a throttled last-seen refresh for known keys
// and for the device (devices.last_seen_at, status 'online'). observe() never touches the
// database; one background thread writes, and while the metadata DB is down the pending work
// stays queued (bounded; overflow is counted and rediscovered later) and is retried with backoff.
// Thread-safe; the Database must outlive it; the destructor tries one last write and stops.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "core/ids.hpp"
#include "db/database.hpp"
#include "ingest/payload.hpp"

namespace factoryops::ingest {

class ParameterDiscovery {
 public:
  struct Options {
    // How often a known key's or a device's last_seen_at is written at most.
    std::chrono::milliseconds refresh_interval{std::chrono::minutes(1)};
    std::size_t max_pending = 100'000;  // queued upserts beyond this are dropped (and relearned)
    std::size_t max_known = 1'000'000;  // the known-key cache is cleared when it grows past this
    std::chrono::milliseconds min_backoff{250};
    std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
  };

  explicit ParameterDiscovery(db::Database& database);
  ParameterDiscovery(db::Database& database, Options options);
  ~ParameterDiscovery();
  ParameterDiscovery(const ParameterDiscovery&) = delete;
  ParameterDiscovery& operator=(const ParameterDiscovery&) = delete;

  // The device sent these keys at `seen_at_ms`. Cheap when nothing is new or due.
  void observe(const core::FactoryId& factory, const core::DeviceId& device, std::span<const KeySeen> keys,
               std::int64_t seen_at_ms);

  // The device said it is online or offline (MQTT status topic or its last will) at `at_ms`.
  // Written promptly (not throttled); an "online" also refreshes last_seen_at.
  void set_status(const core::FactoryId& factory, const core::DeviceId& device, bool online,
                  std::int64_t at_ms);

  // Forgets what is known of the device (it was deleted or changed), so a device created again
  // under the same id has its keys discovered at once.
  void forget(const core::FactoryId& factory, const core::DeviceId& device);

  // Queued upserts and device refreshes not yet written.
  std::size_t pending() const;

  // Writes what is queued on the caller's thread; false when the database refused some of it
  // (that part stays queued).
  bool flush();

 private:
  struct ParameterKey {
    std::string factory;
    std::string device;
    std::string key;
    auto operator<=>(const ParameterKey&) const = default;
  };
  struct PendingParameter {
    DataType type = DataType::kNumber;
    std::int64_t seen_at_ms = 0;
  };
  using DeviceKey = std::pair<std::string, std::string>;
  using Clock = std::chrono::steady_clock;
  // Hashes std::string and std::string_view alike, so lookups need no temporary string.
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  template <typename T>
  using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;
  // What observe() remembers of one device: when its last_seen and each key's last_seen were
  // last queued. Hash maps, because observe() runs for every reading.
  struct KnownDevice {
    std::optional<Clock::time_point> refreshed;  // unset: refresh at the next reading
    StringMap<Clock::time_point> keys;
  };

  void run(std::stop_token stop);
  void update_pending_gauge();

  db::Database& database_;
  const Options options_;

  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  StringMap<KnownDevice> known_;  // by "factory/device" (neither slug holds a '/')
  std::size_t known_keys_ = 0;    // keys remembered over all devices
  std::string scratch_;           // the lookup key of known_, reused under mutex_
  std::map<ParameterKey, PendingParameter> pending_parameters_;
  std::map<DeviceKey, std::int64_t> pending_devices_;                  // -> seen_at_ms
  std::map<DeviceKey, std::pair<bool, std::int64_t>> pending_status_;  // -> online, at_ms
  std::mutex write_mutex_;
  bool outage_logged_ = false;  // guarded by write_mutex_: one warning per outage
  std::jthread worker_;         // last
};

}  // namespace factoryops::ingest
