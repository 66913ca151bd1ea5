#include "auth/principal_cache.hpp"

#include <gtest/gtest.h>

namespace factoryops::auth {
namespace {

const core::FactoryId kFactory("vpc");

Principal active(std::int64_t token_version) {
  return Principal{"ops@example.com", Role::admin, Permissions{}, true, token_version};
}

TEST(PrincipalCache, KeepsARowForTheTtlOnly) {
  PrincipalCache cache;
  const auto t0 = PrincipalCache::Clock::now();
  cache.store(kFactory, 7, active(3), cache.generation(), t0);
  auto found = cache.find(kFactory, 7, t0 + kPrincipalCacheTtl / 2);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->token_version, 3);
  EXPECT_FALSE(cache.find(kFactory, 7, t0 + kPrincipalCacheTtl));
}

TEST(PrincipalCache, RowsAreKeyedByFactoryAndUser) {
  PrincipalCache cache;
  const auto now = PrincipalCache::Clock::now();
  cache.store(kFactory, 7, active(1), cache.generation(), now);
  EXPECT_FALSE(cache.find(core::FactoryId("other"), 7, now));
  EXPECT_FALSE(cache.find(kFactory, 8, now));
}

TEST(PrincipalCache, InvalidateDropsTheRowAtOnce) {
  PrincipalCache cache;
  const auto now = PrincipalCache::Clock::now();
  cache.store(kFactory, 7, active(1), cache.generation(), now);
  cache.invalidate(kFactory, 7);
  EXPECT_FALSE(cache.find(kFactory, 7, now));
}

TEST(PrincipalCache, ARowReadBeforeAChangeCommittedIsNotKept) {
  PrincipalCache cache;
  const auto now = PrincipalCache::Clock::now();
  // A request starts loading the row, then a deactivation commits and invalidates, then the
  // request finishes with the row it read before the change.
  const std::uint64_t generation = cache.generation();
  cache.invalidate(kFactory, 7);
  cache.store(kFactory, 7, active(1), generation, now);
  EXPECT_FALSE(cache.find(kFactory, 7, now));
}

}  // namespace
}  // namespace factoryops::auth
