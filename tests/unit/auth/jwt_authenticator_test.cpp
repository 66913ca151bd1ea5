// JwtAuthenticator against a migrated SQLite database: a token whose claims were verified and
// remembered is still refused once its key leaves the ring, once it expires, and once the
// user's token version changes.
#include "auth/jwt_authenticator.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/errors.hpp"
#include "db/factory_repository.hpp"
#include "db/migrations.hpp"
#include "http/types.hpp"
#include "unit/devices/device_fixture.hpp"

namespace factoryops::auth {
namespace {

std::int64_t epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class JwtAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_keys("k1 first-file-secret-of-at-least-32-characters\n");
    KeyRingOptions options;
    options.env_secret = "environment-secret-of-at-least-32-chars";
    options.file = dir_.path() / "jwt-keys";
    options.check_interval = std::chrono::milliseconds(0);
    keys_ = std::make_unique<KeyRingSource>(options);
    db_ = db::Database::open("sqlite:///" + (dir_.path() / "fo.db").string());
    db::migrate(*db_);
    db::FactoryRepository(*db_).create({core::FactoryId("acme"), "Acme Metals"});
    auto conn = db_->acquire();
    user_id_ = conn->execute(
                       "INSERT INTO users (factory_id, email, role, permissions, token_version, created_at, "
                       "updated_at) VALUES ('acme', 'ops@acme.example', 'admin', '{}', 3, 0, 0)")
                   .last_insert_id;
    PrincipalCache::global().clear();
    authenticator_ = std::make_unique<JwtAuthenticator>(*keys_, *db_);
  }

  void TearDown() override { PrincipalCache::global().clear(); }

  void write_keys(std::string_view text) { std::ofstream(dir_.path() / "jwt-keys") << text; }

  std::string token(std::int64_t lifetime_seconds = 900) {
    AccessClaims claims;
    claims.user_id = user_id_;
    claims.factory_id = "acme";
    claims.role = Role::admin;
    claims.issued_at = epoch_seconds();
    claims.expires_at = claims.issued_at + lifetime_seconds;
    expires_at_ = claims.expires_at;
    claims.jti = "jti-1";
    claims.token_version = 3;
    return sign_access_token(*keys_->current(), claims);
  }

  static http::Request request_with(const std::string& token) {
    http::Request request;
    request.method = "GET";
    request.headers.set("Authorization", "Bearer " + token);
    return request;
  }

  devices::testing::TempDirectory dir_;
  std::unique_ptr<KeyRingSource> keys_;
  std::unique_ptr<db::Database> db_;
  std::int64_t user_id_ = 0;
  std::int64_t expires_at_ = 0;  // of the last token()
  std::unique_ptr<JwtAuthenticator> authenticator_;
};

TEST_F(JwtAuthenticatorTest, AcceptsTheSameTokenRequestAfterRequest) {
  auto request = request_with(token());
  for (int i = 0; i < 3; ++i) {
    auto context = authenticator_->authenticate(request);
    EXPECT_EQ(context.factory_id, core::FactoryId("acme"));
    EXPECT_EQ(context.user_id, user_id_);
    EXPECT_EQ(context.email, "ops@acme.example");
    auto from_memory = authenticator_->authenticate_from_memory(request);
    ASSERT_TRUE(from_memory);
    EXPECT_EQ(from_memory->user_id, user_id_);
  }
  EXPECT_THROW(authenticator_->authenticate(request_with(token() + "x")), core::Unauthorized);
}

TEST_F(JwtAuthenticatorTest, ATokenOfAKeyTakenOutOfTheRingIsRefusedAtOnce) {
  auto request = request_with(token());
  ASSERT_EQ(keys_->current()->signing().kid, "k1");
  EXPECT_NO_THROW(authenticator_->authenticate(request));
  write_keys("k2 second-file-secret-of-at-least-32-characters\n");
  ASSERT_TRUE(keys_->reload());
  EXPECT_THROW(authenticator_->authenticate(request), core::Unauthorized);
  EXPECT_THROW(authenticator_->authenticate_from_memory(request), core::Unauthorized);
}

TEST_F(JwtAuthenticatorTest, ATokenPastItsExpiryIsRefusedThoughItWasJustAccepted) {
  auto request = request_with(token(2));
  EXPECT_NO_THROW(authenticator_->authenticate(request));
  while (epoch_seconds() < expires_at_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_THROW(authenticator_->authenticate(request), core::Unauthorized);
  EXPECT_THROW(authenticator_->authenticate_from_memory(request), core::Unauthorized);
}

TEST_F(JwtAuthenticatorTest, ANewTokenVersionRefusesTheOldTokenAtOnce) {
  auto request = request_with(token());
  EXPECT_NO_THROW(authenticator_->authenticate(request));
  ASSERT_TRUE(authenticator_->authenticate_from_memory(request));
  // What a password change does: bump the version, then invalidate the cached row.
  db_->acquire()->execute("UPDATE users SET token_version = 4 WHERE id = ?", {user_id_});
  PrincipalCache::global().invalidate(core::FactoryId("acme"), user_id_);
  EXPECT_FALSE(authenticator_->authenticate_from_memory(request));
  EXPECT_THROW(authenticator_->authenticate(request), core::Unauthorized);
  // Now the refreshed row is cached, and it refuses the token from memory too.
  EXPECT_THROW(authenticator_->authenticate_from_memory(request), core::Unauthorized);
}

}  // namespace
}  // namespace factoryops::auth
