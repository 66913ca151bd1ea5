// DeviceKeyCache: hits and misses are remembered for their TTLs, invalidation forgets a device
// at once, and the cache stays bounded.
#include "ingest/device_keys.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "devices/api_key.hpp"

namespace factoryops::ingest {
namespace {

struct CountingLookup {
  std::map<std::string, devices::KeyOwner> owners;
  int calls = 0;
  DeviceKeyCache::Lookup fn() {
    return [this](std::string_view key) -> std::optional<devices::KeyOwner> {
      ++calls;
      auto it = owners.find(std::string(key));
      if (it == owners.end()) return std::nullopt;
      return it->second;
    };
  }
};

devices::KeyOwner owner(std::string_view device) {
  return {core::FactoryId("acme"), core::DeviceId(device), true};
}

TEST(DeviceKeyCache, RemembersOwnersAndUnknownKeys) {
  CountingLookup lookup;
  const std::string key = devices::generate_api_key();
  const std::string unknown = devices::generate_api_key();
  lookup.owners.emplace(key, owner("press-1"));
  DeviceKeyCache cache(lookup.fn());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(cache.find(key)->device_id, core::DeviceId("press-1"));
    EXPECT_FALSE(cache.find(unknown).has_value());
  }
  EXPECT_EQ(lookup.calls, 2);
}

TEST(DeviceKeyCache, MalformedKeysNeverReachTheDatabase) {
  CountingLookup lookup;
  DeviceKeyCache cache(lookup.fn());
  EXPECT_FALSE(cache.find("not-a-key").has_value());
  EXPECT_FALSE(cache.find("").has_value());
  EXPECT_EQ(lookup.calls, 0);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(DeviceKeyCache, EntriesExpire) {
  CountingLookup lookup;
  const std::string key = devices::generate_api_key();
  const std::string unknown = devices::generate_api_key();
  lookup.owners.emplace(key, owner("press-1"));
  DeviceKeyCache cache(lookup.fn(), {.positive_ttl = std::chrono::milliseconds(40),
                                     .negative_ttl = std::chrono::milliseconds(20),
                                     .max_entries = 100});
  cache.find(key);
  cache.find(unknown);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  cache.find(key);
  cache.find(unknown);
  EXPECT_EQ(lookup.calls, 4);
}

TEST(DeviceKeyCache, InvalidateForgetsOnlyThatDevice) {
  CountingLookup lookup;
  const std::string k1 = devices::generate_api_key();
  const std::string k2 = devices::generate_api_key();
  lookup.owners.emplace(k1, owner("press-1"));
  lookup.owners.emplace(k2, owner("press-2"));
  DeviceKeyCache cache(lookup.fn());
  cache.find(k1);
  cache.find(k2);
  // The key was rotated: the database no longer knows it.
  lookup.owners.erase(k1);
  cache.invalidate(core::FactoryId("acme"), core::DeviceId("press-1"));
  EXPECT_FALSE(cache.find(k1).has_value());
  EXPECT_TRUE(cache.find(k2).has_value());
  EXPECT_EQ(lookup.calls, 3);
  // Same device id in another factory is a different device.
  cache.invalidate(core::FactoryId("rival"), core::DeviceId("press-2"));
  EXPECT_TRUE(cache.find(k2).has_value());
  EXPECT_EQ(lookup.calls, 3);
}

TEST(DeviceKeyCache, FindCachedAnswersFromMemoryOnly) {
  CountingLookup lookup;
  const std::string key = devices::generate_api_key();
  const std::string unknown = devices::generate_api_key();
  lookup.owners.emplace(key, owner("press-1"));
  DeviceKeyCache cache(lookup.fn(), {.positive_ttl = std::chrono::milliseconds(40),
                                     .negative_ttl = std::chrono::milliseconds(40),
                                     .max_entries = 100});
  // Not cached yet: no answer, and no lookup either.
  EXPECT_FALSE(cache.find_cached(key).has_value());
  // A malformed key needs no lookup: it is nobody's.
  auto malformed = cache.find_cached("not-a-key");
  ASSERT_TRUE(malformed.has_value());
  EXPECT_FALSE(malformed->owner.has_value());
  EXPECT_EQ(lookup.calls, 0);

  cache.find(key);
  cache.find(unknown);
  auto hit = cache.find_cached(key);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->owner->device_id, core::DeviceId("press-1"));
  auto known_unknown = cache.find_cached(unknown);
  ASSERT_TRUE(known_unknown.has_value());
  EXPECT_FALSE(known_unknown->owner.has_value());
  EXPECT_EQ(lookup.calls, 2);

  cache.invalidate(core::FactoryId("acme"), core::DeviceId("press-1"));
  EXPECT_FALSE(cache.find_cached(key).has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_FALSE(cache.find_cached(unknown).has_value());  // expired
  EXPECT_EQ(lookup.calls, 2);
}

TEST(DeviceKeyCache, StaysBounded) {
  CountingLookup lookup;
  DeviceKeyCache cache(
      lookup.fn(),
      {.positive_ttl = std::chrono::seconds(10), .negative_ttl = std::chrono::seconds(10), .max_entries = 8});
  for (int i = 0; i < 50; ++i) cache.find(devices::generate_api_key());
  EXPECT_LE(cache.size(), 8u);
}

}  // namespace
}  // namespace factoryops::ingest
