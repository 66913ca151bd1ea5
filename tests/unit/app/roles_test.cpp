#include "app/roles.hpp"

#include <gtest/gtest.h>

#include "core/config.hpp"

namespace factoryops::app {
namespace {

TEST(RolesTest, AllMeansEveryAvailableRole) {
  auto roles = parse_roles("all");
  ASSERT_FALSE(roles.empty());
  for (const auto& r : roles) {
    auto it = std::find_if(known_roles().begin(), known_roles().end(),
                           [&](const RoleInfo& info) { return info.name == r; });
    ASSERT_NE(it, known_roles().end());
    EXPECT_TRUE(it->available);
  }
  EXPECT_EQ(roles.front(), "api");
}

TEST(RolesTest, ListIsTrimmedAndDeduplicated) {
  EXPECT_EQ(parse_roles(" api, api ,"), std::vector<std::string>{"api"});
}

TEST(RolesTest, UnknownRoleIsNamed) {
  try {
    parse_roles("api,frobnicator");
    FAIL() << "expected an error";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.key(), "--roles");
    EXPECT_NE(std::string(e.what()).find("frobnicator"), std::string::npos);
  }
}

TEST(RolesTest, EmptyListIsRejected) {
  EXPECT_THROW(parse_roles(" , "), core::ConfigError);
}

TEST(RolesTest, RoleNotInThisVersionIsRefused) {
  for (const auto& role : known_roles()) {
    if (!role.available) {
      EXPECT_THROW(parse_roles(std::string(role.name)), core::ConfigError) << role.name;
    }
  }
}

}  // namespace
}  // namespace factoryops::app
