#include "devices/api_key.hpp"

#include <gtest/gtest.h>

#include <set>

namespace factoryops::devices {
namespace {

TEST(ApiKey, HasTheDocumentedShape) {
  std::string key = generate_api_key();
  EXPECT_EQ(key.size(), kApiKeyLength);
  EXPECT_TRUE(key.starts_with("fo_"));
  EXPECT_TRUE(looks_like_api_key(key)) << key;
  EXPECT_EQ(key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 3),
            std::string::npos);
  EXPECT_EQ(api_key_prefix(key), key.substr(0, 8));
}

TEST(ApiKey, KeysDoNotRepeat) {
  std::set<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.insert(generate_api_key());
  EXPECT_EQ(keys.size(), 200U);
}

TEST(ApiKey, HashIsSha256Hex) {
  EXPECT_EQ(api_key_hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(api_key_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKey, ShapeFilterRejectsOtherStrings) {
  std::string key = generate_api_key();
  EXPECT_FALSE(looks_like_api_key(""));
  EXPECT_FALSE(looks_like_api_key(key.substr(0, key.size() - 1)));
  EXPECT_FALSE(looks_like_api_key("xx_" + key.substr(3)));
  std::string bad = key;
  bad.back() = '=';
  EXPECT_FALSE(looks_like_api_key(bad));
}

}  // namespace
}  // namespace factoryops::devices
