#include "ingest/device_directory.hpp"

#include "core/errors.hpp"

namespace factoryops::ingest {

namespace {
DeviceState from(const std::optional<bool>& enabled) {
  if (!enabled) return DeviceState::unknown;
  return *enabled ? DeviceState::enabled : DeviceState::disabled;
}
}  // namespace

DeviceDirectory::DeviceDirectory(Lookup lookup) : DeviceDirectory(std::move(lookup), Options{}) {}

DeviceDirectory::DeviceDirectory(Lookup lookup, Options options)
    : lookup_(std::move(lookup)), options_(options) {}

DeviceState DeviceDirectory::state(const core::FactoryId& factory, const core::DeviceId& device) {
  Key key{factory.str(), device.str()};
  const auto now = Clock::now();
  std::optional<Entry> stale;
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      if (it->second.expires > now) return from(it->second.enabled);
      stale = it->second;
    }
  }
  std::optional<bool> enabled;
  try {
    enabled = lookup_(factory, device);
  } catch (const core::Unavailable&) {
    if (stale) return from(stale->enabled);
    return DeviceState::unverified;
  }
  std::lock_guard lock(mutex_);
  if (entries_.size() >= options_.max_entries) entries_.clear();
  entries_[key] = Entry{enabled, now + options_.ttl};
  return from(enabled);
}

void DeviceDirectory::invalidate(const core::FactoryId& factory, const core::DeviceId& device) {
  std::lock_guard lock(mutex_);
  entries_.erase(Key{factory.str(), device.str()});
}

}  // namespace factoryops::ingest
