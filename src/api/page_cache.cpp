#include "api/page_cache.hpp"

namespace factoryops::api {

std::uint64_t PageCache::generation(const core::FactoryId& factory) const {
  std::lock_guard lock(mutex_);
  auto it = factories_.find(factory.str());
  return it == factories_.end() ? 0 : it->second.generation;
}

PageCache::Body PageCache::find(const core::FactoryId& factory, const std::string& key,
                                Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  auto it = factories_.find(factory.str());
  if (it == factories_.end()) return nullptr;
  auto page = it->second.pages.find(key);
  if (page == it->second.pages.end() || page->second.expires <= now) return nullptr;
  return page->second.body;
}

void PageCache::store(const core::FactoryId& factory, const std::string& key, Body body,
                      std::uint64_t built_at_generation, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  FactoryPages& pages = factories_[factory.str()];
  // A change committed while the page was being built may not be in it: do not keep it.
  if (pages.generation != built_at_generation) return;
  if (pages.pages.size() >= kMaxPagesPerFactory) pages.pages.clear();
  pages.pages[key] = Entry{std::move(body), now + kPageCacheTtl};
}

void PageCache::invalidate(const core::FactoryId& factory) {
  std::lock_guard lock(mutex_);
  FactoryPages& pages = factories_[factory.str()];
  ++pages.generation;
  pages.pages.clear();
}

}  // namespace factoryops::api
