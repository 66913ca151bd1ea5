// Which (factory, device) pairs are registered and enabled, for transports that learn the
// device from a topic rather than from a key (MQTT). Answers from memory: an entry is refreshed
// after `ttl`; while the metadata DB is down the last known answer is kept, and a device never
// seen before is reported as `unverified` (the broker already checked its key and topic).
// DeviceService's change hook calls invalidate(). Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "core/ids.hpp"

namespace factoryops::ingest {

enum class DeviceState { enabled, disabled, unknown, unverified };

class DeviceDirectory {
 public:
  // nullopt: no such device; true/false: enabled. Throws core::Unavailable when the DB is down.
  using Lookup = std::function<std::optional<bool>(const core::FactoryId&, const core::DeviceId&)>;
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::chrono::milliseconds ttl{10'000};
    std::size_t max_entries = 100'000;
  };

  explicit DeviceDirectory(Lookup lookup);
  DeviceDirectory(Lookup lookup, Options options);

  DeviceState state(const core::FactoryId& factory, const core::DeviceId& device);
  void invalidate(const core::FactoryId& factory, const core::DeviceId& device);

 private:
  struct Entry {
    std::optional<bool> enabled;
    Clock::time_point expires;
  };
  using Key = std::pair<std::string, std::string>;

  Lookup lookup_;
  const Options options_;
  std::mutex mutex_;
  std::map<Key, Entry> entries_;
};

}  // namespace factoryops::ingest
