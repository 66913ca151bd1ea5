#include "auth/principal_cache.hpp"

namespace factoryops::auth {

PrincipalCache& PrincipalCache::global() {
  static PrincipalCache cache;
  return cache;
}

std::string PrincipalCache::key(const core::FactoryId& factory, std::int64_t user_id) {
  std::string k = factory.str();
  k.push_back('/');
  k += std::to_string(user_id);
  return k;
}

std::uint64_t PrincipalCache::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

std::optional<Principal> PrincipalCache::find(const core::FactoryId& factory, std::int64_t user_id,
                                              Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key(factory, user_id));
  if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
  return it->second.principal;
}

void PrincipalCache::store(const core::FactoryId& factory, std::int64_t user_id, Principal principal,
                           std::uint64_t loaded_at_generation, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  // A change committed while the row was being read may not be in it: do not keep it.
  if (loaded_at_generation != generation_) return;
  if (entries_.size() >= kCapacity) entries_.clear();
  entries_[key(factory, user_id)] = Entry{std::move(principal), now + kPrincipalCacheTtl};
}

void PrincipalCache::invalidate(const core::FactoryId& factory, std::int64_t user_id) {
  std::lock_guard lock(mutex_);
  ++generation_;
  entries_.erase(key(factory, user_id));
}

void PrincipalCache::clear() {
  std::lock_guard lock(mutex_);
  ++generation_;
  entries_.clear();
}

}  // namespace factoryops::auth
