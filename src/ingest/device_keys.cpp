#include "ingest/device_keys.hpp"

#include "devices/api_key.hpp"

namespace factoryops::ingest {

DeviceKeyCache::DeviceKeyCache(Lookup lookup) : DeviceKeyCache(std::move(lookup), Options{}) {}

DeviceKeyCache::DeviceKeyCache(Lookup lookup, Options options)
    : lookup_(std::move(lookup)), options_(options) {}

std::optional<devices::KeyOwner> DeviceKeyCache::find(std::string_view key) {
  // A key of the wrong shape is nobody's; not worth a cache slot or a query.
  if (!devices::looks_like_api_key(key)) return std::nullopt;
  // Entries are keyed by the key's digest, so the process does not hold device keys in clear.
  const std::string digest = devices::api_key_hash(key);
  const auto now = Clock::now();
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(digest);
    if (it != entries_.end() && it->second.expires > now) return it->second.owner;
    generation = generation_;
  }
  auto owner = lookup_(key);
  std::lock_guard lock(mutex_);
  // An invalidation while the query ran may have made its answer stale: use it, do not keep it.
  if (generation != generation_) return owner;
  if (entries_.size() >= options_.max_entries) entries_.clear();
  entries_[digest] = Entry{owner, now + (owner ? options_.positive_ttl : options_.negative_ttl)};
  return owner;
}

std::optional<DeviceKeyCache::Cached> DeviceKeyCache::find_cached(std::string_view key) const {
  if (!devices::looks_like_api_key(key)) return Cached{};
  const std::string digest = devices::api_key_hash(key);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(digest);
  if (it == entries_.end() || it->second.expires <= Clock::now()) return std::nullopt;
  return Cached{it->second.owner};
}

void DeviceKeyCache::invalidate(const core::FactoryId& factory, const core::DeviceId& device) {
  std::lock_guard lock(mutex_);
  ++generation_;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.owner && it->second.owner->factory_id == factory &&
        it->second.owner->device_id == device) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t DeviceKeyCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace factoryops::ingest
