// A per-factory micro-cache of serialised list answers (the machine list), so a dashboard
// polled by many screens does not rebuild the same page for each. An entry lives for
// kPageCacheTtl and is dropped at once when the factory's data changes in this process
// (invalidate() after commit); changes made by another process show within the TTL.
// Thread-safe; lives as long as the routes that use it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/ids.hpp"

namespace factoryops::api {

inline constexpr std::chrono::milliseconds kPageCacheTtl{1000};

class PageCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Body = std::shared_ptr<const std::string>;

  // Read before building a page; store() drops the page when the factory changed since.
  std::uint64_t generation(const core::FactoryId& factory) const;
  Body find(const core::FactoryId& factory, const std::string& key, Clock::time_point now) const;
  void store(const core::FactoryId& factory, const std::string& key, Body body,
             std::uint64_t built_at_generation, Clock::time_point now);
  void invalidate(const core::FactoryId& factory);

 private:
  struct Entry {
    Body body;
    Clock::time_point expires;
  };
  struct FactoryPages {
    std::uint64_t generation = 0;
    std::unordered_map<std::string, Entry> pages;
  };
  // Distinct filter combinations per factory kept at most; beyond it the oldest set is dropped.
  static constexpr std::size_t kMaxPagesPerFactory = 256;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, FactoryPages> factories_;
};

}  // namespace factoryops::api
