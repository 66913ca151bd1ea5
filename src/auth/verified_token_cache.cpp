#include "auth/verified_token_cache.hpp"

#include <functional>

#include "auth/crypto.hpp"

namespace factoryops::auth {

VerifiedTokenCache::Claims VerifiedTokenCache::find(std::string_view token,
                                                    const std::shared_ptr<const KeyRing>& ring,
                                                    std::int64_t now_seconds, Clock::time_point now) const {
  const std::size_t hash = std::hash<std::string_view>{}(token);
  std::lock_guard lock(mutex_);
  if (ring_ != ring) return nullptr;
  auto it = entries_.find(hash);
  if (it == entries_.end() || it->second.expires <= now) return nullptr;
  if (!constant_time_equals(it->second.token, token)) return nullptr;
  // The same expiry check verify_access_token() makes: a token must not outlive its exp here.
  if (it->second.claims->expires_at <= now_seconds) return nullptr;
  return it->second.claims;
}

void VerifiedTokenCache::store(std::string_view token, const std::shared_ptr<const KeyRing>& ring,
                               Claims claims, Clock::time_point now) {
  if (!claims || !ring) return;
  const std::size_t hash = std::hash<std::string_view>{}(token);
  std::lock_guard lock(mutex_);
  if (ring_ != ring) {
    entries_.clear();
    ring_ = ring;
  }
  if (entries_.size() >= kCapacity) entries_.clear();
  // Two tokens with the same hash simply take turns in the slot.
  entries_[hash] = Entry{std::string(token), std::move(claims), now + kVerifiedTokenTtl};
}

std::size_t VerifiedTokenCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace factoryops::auth
