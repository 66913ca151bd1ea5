// VerifiedTokenCache: a verified token's claims are reused only for the exact token, with the
// same key ring, before the token expires and within the TTL.
#include "auth/verified_token_cache.hpp"

#include <gtest/gtest.h>

namespace factoryops::auth {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

std::shared_ptr<const KeyRing> ring(std::string secret) {
  return std::make_shared<const KeyRing>(std::vector<SigningKey>{{"k1", std::move(secret)}});
}

VerifiedTokenCache::Claims claims(std::int64_t expires_at) {
  AccessClaims c;
  c.user_id = 12;
  c.factory_id = "vpc";
  c.issued_at = kNow - 60;
  c.expires_at = expires_at;
  c.jti = "j1";
  c.token_version = 4;
  return std::make_shared<const AccessClaims>(c);
}

TEST(VerifiedTokenCache, ReusesClaimsOfTheSameTokenForTheTtlOnly) {
  VerifiedTokenCache cache;
  auto keys = ring("first-secret-at-least-32-characters-long");
  const auto t0 = VerifiedTokenCache::Clock::now();
  cache.store("aaa.bbb.ccc", keys, claims(kNow + 900), t0);
  auto found = cache.find("aaa.bbb.ccc", keys, kNow, t0 + kVerifiedTokenTtl / 2);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user_id, 12);
  EXPECT_EQ(found->factory_id, "vpc");
  EXPECT_EQ(found->token_version, 4);
  EXPECT_FALSE(cache.find("aaa.bbb.ccc", keys, kNow, t0 + kVerifiedTokenTtl));
}

TEST(VerifiedTokenCache, OnlyTheExactTokenMatches) {
  VerifiedTokenCache cache;
  auto keys = ring("first-secret-at-least-32-characters-long");
  const auto now = VerifiedTokenCache::Clock::now();
  cache.store("aaa.bbb.ccc", keys, claims(kNow + 900), now);
  EXPECT_FALSE(cache.find("aaa.bbb.ccd", keys, kNow, now));  // another signature
  EXPECT_FALSE(cache.find("aaa.bbb.cc", keys, kNow, now));
  EXPECT_FALSE(cache.find("aaa.bbb.ccc ", keys, kNow, now));
  EXPECT_FALSE(cache.find("", keys, kNow, now));
}

TEST(VerifiedTokenCache, AnExpiredTokenIsNeverServed) {
  VerifiedTokenCache cache;
  auto keys = ring("first-secret-at-least-32-characters-long");
  const auto now = VerifiedTokenCache::Clock::now();
  cache.store("t", keys, claims(kNow + 5), now);
  EXPECT_TRUE(cache.find("t", keys, kNow + 4, now));
  EXPECT_FALSE(cache.find("t", keys, kNow + 5, now));
  EXPECT_FALSE(cache.find("t", keys, kNow + 3600, now));
}

TEST(VerifiedTokenCache, ANewKeyRingDropsWhatTheOldOneVerified) {
  VerifiedTokenCache cache;
  auto old_keys = ring("first-secret-at-least-32-characters-long");
  // The same keys, reloaded: a new ring object all the same.
  auto new_keys = ring("first-secret-at-least-32-characters-long");
  const auto now = VerifiedTokenCache::Clock::now();
  cache.store("t", old_keys, claims(kNow + 900), now);
  EXPECT_FALSE(cache.find("t", new_keys, kNow, now));
  cache.store("u", new_keys, claims(kNow + 900), now);
  EXPECT_TRUE(cache.find("u", new_keys, kNow, now));
  EXPECT_FALSE(cache.find("t", old_keys, kNow, now));
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace factoryops::auth
