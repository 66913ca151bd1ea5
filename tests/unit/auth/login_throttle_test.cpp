#include "auth/login_throttle.hpp"

#include <gtest/gtest.h>

namespace factoryops::auth {
namespace {

constexpr std::int64_t kWindow = 15 * 60 * 1000;
constexpr std::int64_t kNow = 10'000'000;

TEST(ThrottleWindowTest, AllowsUpToTheLimit) {
  EXPECT_FALSE(retry_after_seconds({}, kNow, kWindow, 5));
  EXPECT_FALSE(retry_after_seconds({kNow - 4, kNow - 3, kNow - 2, kNow - 1}, kNow, kWindow, 5));
}

TEST(ThrottleWindowTest, BlocksAtTheLimitUntilTheOldestCountingFailureExpires) {
  std::vector<std::int64_t> five = {kNow - 60'000, kNow - 50'000, kNow - 40'000, kNow - 30'000, kNow - 1'000};
  auto wait = retry_after_seconds(five, kNow, kWindow, 5);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, (kWindow - 60'000) / 1000);
  // With more failures than the limit, it is the limit-th newest that has to leave.
  std::vector<std::int64_t> seven = five;
  seven.push_back(kNow - 120'000);
  seven.push_back(kNow - 100'000);
  EXPECT_EQ(*retry_after_seconds(seven, kNow, kWindow, 5), (kWindow - 60'000) / 1000);
}

TEST(ThrottleWindowTest, IgnoresFailuresOutsideTheWindowAndRoundsUp) {
  std::vector<std::int64_t> old = {kNow - kWindow, kNow - kWindow - 5, kNow - 1,
                                   kNow - 2,       kNow - 3,           kNow - 4};
  EXPECT_FALSE(retry_after_seconds(old, kNow, kWindow, 5));
  std::vector<std::int64_t> edge = {kNow - kWindow + 1, kNow - 1, kNow - 2, kNow - 3, kNow - 4};
  EXPECT_EQ(*retry_after_seconds(edge, kNow, kWindow, 5), 1);  // 1 ms left -> 1 s, never 0
  std::vector<std::int64_t> mid = {kNow - kWindow + 1500, kNow - 1, kNow - 2, kNow - 3, kNow - 4};
  EXPECT_EQ(*retry_after_seconds(mid, kNow, kWindow, 5), 2);
}

}  // namespace
}  // namespace factoryops::auth
