#include "auth/password.hpp"

#include <gtest/gtest.h>

namespace factoryops::auth {
namespace {

TEST(PasswordHashTest, HashesAreBcrypt2bCost12AndVerify) {
  std::string hash = hash_password("plant-floor-Ember-77");
  EXPECT_EQ(hash.substr(0, 7), "$2b$12$");
  EXPECT_EQ(hash.size(), 60u);
  EXPECT_TRUE(verify_password("plant-floor-Ember-77", hash));
  EXPECT_FALSE(verify_password("plant-floor-Ember-78", hash));
  EXPECT_NE(hash_password("plant-floor-Ember-77"), hash);  // salted
}

TEST(PasswordHashTest, VerifiesKnownVectorsOfEveryBcryptPrefix) {
  // The classic Openwall vector, and one a passlib-style $2b$ cost-12 hash.
  EXPECT_TRUE(verify_password("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
  EXPECT_TRUE(verify_password("U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
  EXPECT_TRUE(verify_password("U*U", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
  EXPECT_FALSE(verify_password("U*V", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
  const std::string passlib = "$2b$12$abcdefghijklmnopqrstuuvcFwHCL4yopeaM77jd195KYPX56UaCy";
  EXPECT_TRUE(verify_password("correct-horse-staple-42", passlib));
  EXPECT_FALSE(verify_password("correct-horse-staple-43", passlib));
}

TEST(PasswordHashTest, MalformedOrForeignHashesNeverVerify) {
  for (const char* h : {"", "plain", "$1$abc$def", "$6$salt$hash", "$2b$12$short", "*0"}) {
    EXPECT_FALSE(verify_password("anything-at-all", h)) << h;
  }
}

TEST(PasswordPolicyTest, AcceptsAStrongPassword) {
  EXPECT_FALSE(password_problem("Turbine-Quartz-1987", "asha@vpc.example", "vpc"));
  EXPECT_FALSE(password_problem(generate_password(), "asha@vpc.example", "plant"));
  EXPECT_GE(generate_password().size(), 16u);
}

TEST(PasswordPolicyTest, RefusesWeakPasswordsWithAReason) {
  const std::string email = "asha.rao@vpc.example";
  EXPECT_TRUE(password_problem("Short-1", email, "vpc"));                    // length
  EXPECT_TRUE(password_problem("aaaaaaaaaaaaaa", email, "vpc"));             // one character
  EXPECT_TRUE(password_problem("abcabcabcabcabc", email, "vpc"));            // short pattern
  EXPECT_TRUE(password_problem("abcdefghijklmn", email, "vpc"));             // sequence
  EXPECT_TRUE(password_problem("9876543210987", email, "vpc"));              // descending digits
  EXPECT_TRUE(password_problem("qwertyuiop123", email, "vpc"));              // common
  EXPECT_TRUE(password_problem("Password2026!", email, "vpc"));              // common stem + digits
  EXPECT_TRUE(password_problem("my-asha.rao-secret", email, "vpc"));         // email local part
  EXPECT_TRUE(password_problem("Hello-Plant42-World", email, "plant42"));    // factory id
  EXPECT_TRUE(password_problem(std::string(80, 'x') + "yz", email, "vpc"));  // longer than bcrypt reads
  auto why = password_problem("qwertyuiop123", email, "vpc");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->find("qwerty"), std::string::npos) << "the reason must not quote the password";
}

TEST(PasswordPolicyTest, CountsCharactersNotBytes) {
  // Twelve characters, some of them multi-byte.
  EXPECT_FALSE(password_problem("Grün-Öl-Säge-7", "a@b.example", "vpc"));
  EXPECT_TRUE(password_problem("äöüäöüß1", "a@b.example", "vpc"));
}

}  // namespace
}  // namespace factoryops::auth
