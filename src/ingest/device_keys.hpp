// A small cache of device API key -> owner, so HTTP ingest does not query the metadata DB per
// request: a hit is kept `positive_ttl`, a miss `negative_ttl`. DeviceService tells it (through
// its change hook) when a key is rotated or a device is changed or deleted, so in this process a
// revoked key stops working at once; other processes notice within positive_ttl.
// Thread-safe; the lookup function must stay callable for the cache's lifetime.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/ids.hpp"
#include "devices/device_repository.hpp"

namespace factoryops::ingest {

class DeviceKeyCache {
 public:
  using Lookup = std::function<std::optional<devices::KeyOwner>(std::string_view key)>;
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::chrono::milliseconds positive_ttl{10'000};
    std::chrono::milliseconds negative_ttl{2'000};
    std::size_t max_entries = 10'000;  // the cache is emptied when full (simple and bounded)
  };

  explicit DeviceKeyCache(Lookup lookup);
  DeviceKeyCache(Lookup lookup, Options options);

  // The key's owner (enabled or not), or nullopt for an unknown key. Exceptions of the lookup
  // (core::Unavailable) pass through and are not cached.
  std::optional<devices::KeyOwner> find(std::string_view key);

  // What find() would answer, from memory only; `owner` as find() returns it.
  struct Cached {
    std::optional<devices::KeyOwner> owner;
  };
  // nullopt when the key is not cached (or its entry expired), so only the lookup could answer.
  // Never calls the lookup: for callers on a network thread that must not block.
  std::optional<Cached> find_cached(std::string_view key) const;

  // Forgets every cached key of the device (rotation, disabling, deletion).
  void invalidate(const core::FactoryId& factory, const core::DeviceId& device);

  std::size_t size() const;

 private:
  struct Entry {
    std::optional<devices::KeyOwner> owner;
    Clock::time_point expires;
  };

  Lookup lookup_;
  const Options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t generation_ = 0;  // bumped by invalidate()
};

}  // namespace factoryops::ingest
