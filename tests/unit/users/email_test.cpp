#include <gtest/gtest.h>

#include "auth/context.hpp"
#include "core/errors.hpp"
#include "users/user_repository.hpp"
#include "users/user_service.hpp"

namespace factoryops::users {
namespace {

TEST(EmailTest, NormalisesToLowerCase) {
  EXPECT_EQ(normalize_email("email", "Asha.Rao@VPC.Example"), "asha.rao@vpc.example");
  EXPECT_EQ(normalize_email("email", "ops+alerts@plant-1.example.co.in"), "ops+alerts@plant-1.example.co.in");
}

TEST(EmailTest, RejectsNonAddressesNamingTheField) {
  for (const char* bad : {"", "plain", "@vpc.example", "a@", "a@b", "a@@b.example", "a b@c.example",
                          "a@b..example", "a@.example", "a@example.", "<a>@b.example", "a@b.example\n"}) {
    try {
      normalize_email("email", bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const core::Invalid& e) {
      EXPECT_EQ(e.field(), "email");
    }
  }
  EXPECT_THROW(normalize_email("email", std::string(65, 'a') + "@b.example"), core::Invalid);
}

TEST(NameTest, TrimsAndLimits) {
  EXPECT_EQ(normalize_name("name", "  Asha Rao \n", false), "Asha Rao");
  EXPECT_THROW(normalize_name("name", "   ", false), core::Invalid);
  EXPECT_EQ(normalize_name("name", "", true), "");
  EXPECT_THROW(normalize_name("name", std::string(256, 'x'), true), core::Invalid);
  EXPECT_THROW(normalize_name("name", "tab\there", true), core::Invalid);
}

TEST(PermissionsJsonTest, RoundTripsAndNamesTheBadKey) {
  auth::Permissions p;
  p.rules = true;
  p.machines = true;
  EXPECT_EQ(auth::parse_permissions(auth::permissions_json(p)), p);
  try {
    auth::parse_permissions(R"({"rules": "yes"})");
    FAIL();
  } catch (const core::Invalid& e) {
    EXPECT_EQ(e.field(), "permissions.rules");
  }
  EXPECT_THROW(auth::parse_permissions(R"({"billing": true})"), core::Invalid);
  EXPECT_THROW(auth::parse_permissions("[]"), core::Invalid);
}

}  // namespace
}  // namespace factoryops::users
