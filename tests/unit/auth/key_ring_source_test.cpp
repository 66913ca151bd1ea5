#include "auth/key_ring_source.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

namespace factoryops::auth {
namespace {

class KeyRingSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("factoryops-keys-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  KeyRingOptions options() {
    KeyRingOptions o;
    o.env_secret = "environment-secret-of-at-least-32-chars";
    o.file = dir_ / "jwt-keys";
    o.check_interval = std::chrono::milliseconds(0);
    return o;
  }

  std::filesystem::path dir_;
};

TEST_F(KeyRingSourceTest, EnvironmentSecretAloneSignsAsDefault) {
  KeyRingSource source(options());
  EXPECT_EQ(source.current()->signing().kid, "default");
  EXPECT_EQ(source.current()->keys().size(), 1u);
}

TEST_F(KeyRingSourceTest, RotationAppendsAPrivateKeyThatSignsAfterReload) {
  KeyRingSource source(options());
  std::string kid = rotate_key_file(dir_ / "jwt-keys");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "jwt-keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(source.reload());
  EXPECT_EQ(source.current()->signing().kid, kid);
  EXPECT_NE(source.current()->find("default"), nullptr);
  EXPECT_GE(source.current()->signing().secret.size(), 43u);

  // The second rotation keeps the first key.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::string second = rotate_key_file(dir_ / "jwt-keys");
  EXPECT_NE(second, kid);
  ASSERT_TRUE(source.reload());
  EXPECT_EQ(source.current()->signing().kid, second);
  EXPECT_NE(source.current()->find(kid), nullptr);
}

TEST_F(KeyRingSourceTest, NoticesAChangedFileWithoutASignal) {
  KeyRingSource source(options());
  rotate_key_file(dir_ / "jwt-keys");
  // A fresh file has a new mtime: current() re-reads it (check interval 0 in this test).
  EXPECT_NE(source.current()->signing().kid, "default");
}

TEST_F(KeyRingSourceTest, ABrokenFileKeepsThePreviousRing) {
  KeyRingSource source(options());
  std::string kid = rotate_key_file(dir_ / "jwt-keys");
  ASSERT_TRUE(source.reload());
  std::ofstream(dir_ / "jwt-keys", std::ios::app) << "only-a-kid\n";
  EXPECT_FALSE(source.reload());
  EXPECT_EQ(source.current()->signing().kid, kid);
}

TEST_F(KeyRingSourceTest, ProductionRefusesShortFileKeysAndMissingConfiguredFiles) {
  std::ofstream(dir_ / "jwt-keys") << "k1 too-short\n";
  KeyRingOptions o = options();
  o.production = true;
  EXPECT_THROW(KeyRingSource{o}, std::runtime_error);
  o.production = false;
  EXPECT_NO_THROW(KeyRingSource{o});
  o.file = dir_ / "missing";
  o.file_required = true;
  EXPECT_THROW(KeyRingSource{o}, std::runtime_error);
}

}  // namespace
}  // namespace factoryops::auth
