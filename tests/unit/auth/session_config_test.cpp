// The identity configuration keys and how they become key-ring options.
#include <gtest/gtest.h>

#include "auth/key_ring_source.hpp"
#include "core/config.hpp"

namespace factoryops::auth {
namespace {

TEST(SessionConfigTest, DefaultsMatchTheDocumentedLifetimes) {
  auto c = core::load_config({}, std::nullopt);
  EXPECT_EQ(c.access_token_ttl_seconds, 900);
  EXPECT_EQ(c.refresh_token_ttl_seconds, 14 * 24 * 3600);
  EXPECT_EQ(key_file_path(c), c.data_dir / "jwt-keys");
  auto o = key_ring_options(c);
  EXPECT_FALSE(o.file_required);
  EXPECT_EQ(o.env_secret, core::kDevelopmentJwtSecret);
}

TEST(SessionConfigTest, ReadsTheKeysFromTheEnvironment) {
  auto c = core::load_config({{"FACTORYOPS_ACCESS_TOKEN_TTL_SECONDS", "120"},
                              {"FACTORYOPS_REFRESH_TOKEN_TTL_SECONDS", "86400"},
                              {"FACTORYOPS_JWT_KEYS_FILE", "/etc/factoryops/keys"}},
                             std::nullopt);
  EXPECT_EQ(c.access_token_ttl_seconds, 120);
  EXPECT_EQ(c.refresh_token_ttl_seconds, 86400);
  auto o = key_ring_options(c);
  EXPECT_EQ(o.file, "/etc/factoryops/keys");
  EXPECT_TRUE(o.file_required);
}

TEST(SessionConfigTest, RejectsOutOfRangeLifetimesNamingTheKey) {
  try {
    core::load_config({{"FACTORYOPS_ACCESS_TOKEN_TTL_SECONDS", "5"}}, std::nullopt);
    FAIL();
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.key(), "FACTORYOPS_ACCESS_TOKEN_TTL_SECONDS");
  }
  EXPECT_THROW(core::load_config({{"FACTORYOPS_REFRESH_TOKEN_TTL_SECONDS", "forever"}}, std::nullopt),
               core::ConfigError);
  EXPECT_THROW(core::load_config({{"FACTORYOPS_JWT_KEYS_FILE", ""}}, std::nullopt), core::ConfigError);
}

}  // namespace
}  // namespace factoryops::auth
