#include "api/page_cache.hpp"

#include <gtest/gtest.h>

namespace factoryops::api {
namespace {

const core::FactoryId kFactory("vpc");
const core::FactoryId kOther("other");

PageCache::Body body(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

TEST(PageCache, ServesAPageForTheTtlOnly) {
  PageCache cache;
  const auto t0 = PageCache::Clock::now();
  cache.store(kFactory, "limit=100", body("[1]"), cache.generation(kFactory), t0);
  auto found = cache.find(kFactory, "limit=100", t0 + kPageCacheTtl / 2);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, "[1]");
  EXPECT_FALSE(cache.find(kFactory, "limit=100", t0 + kPageCacheTtl));
  EXPECT_FALSE(cache.find(kFactory, "limit=50", t0));
}

TEST(PageCache, PagesNeverCrossFactories) {
  PageCache cache;
  const auto now = PageCache::Clock::now();
  cache.store(kFactory, "k", body("mine"), cache.generation(kFactory), now);
  EXPECT_FALSE(cache.find(kOther, "k", now));
}

TEST(PageCache, AChangeDropsOnlyThatFactorysPages) {
  PageCache cache;
  const auto now = PageCache::Clock::now();
  cache.store(kFactory, "k", body("a"), cache.generation(kFactory), now);
  cache.store(kOther, "k", body("b"), cache.generation(kOther), now);
  cache.invalidate(kFactory);
  EXPECT_FALSE(cache.find(kFactory, "k", now));
  EXPECT_TRUE(cache.find(kOther, "k", now));
}

TEST(PageCache, APageBuiltAcrossAChangeIsNotKept) {
  PageCache cache;
  const auto now = PageCache::Clock::now();
  const std::uint64_t generation = cache.generation(kFactory);
  cache.invalidate(kFactory);  // a machine was added while the page was being built
  cache.store(kFactory, "k", body("stale"), generation, now);
  EXPECT_FALSE(cache.find(kFactory, "k", now));
}

}  // namespace
}  // namespace factoryops::api
