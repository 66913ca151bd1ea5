#include "auth/jwt.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/crypto.hpp"

namespace factoryops::auth {
namespace {

namespace json = boost::json;

constexpr std::int64_t kNow = 1'800'000'000;

KeyRing ring() {
  return KeyRing(std::vector<SigningKey>{{"old", "first-secret-at-least-32-characters-long"},
                                         {"new", "second-secret-at-least-32-characters-long"}});
}

AccessClaims claims() {
  AccessClaims c;
  c.user_id = 12;
  c.factory_id = "vpc";
  c.role = Role::super_admin;
  c.issued_at = kNow;
  c.expires_at = kNow + 900;
  c.jti = "abc";
  c.token_version = 3;
  return c;
}

std::string part(const json::object& o) {
  return base64url_encode(json::serialize(o));
}

json::object decode(std::string_view segment) {
  return json::parse(*base64url_decode(segment)).as_object();
}

std::vector<std::string> split(const std::string& token) {
  auto a = token.find('.');
  auto b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

// A token with the given header and payload, signed with HMAC-SHA256 under `secret`.
std::string forge(const json::object& header, const json::object& payload, const std::string& secret) {
  std::string input = part(header) + "." + part(payload);
  return input + "." + base64url_encode(hmac_sha256(secret, input));
}

TEST(JwtTest, SignedTokenVerifiesAndCarriesTheContractClaims) {
  std::string token = sign_access_token(ring(), claims());
  auto parts = split(token);
  auto header = decode(parts[0]);
  EXPECT_EQ(header.at("alg").as_string(), "HS256");
  EXPECT_EQ(header.at("kid").as_string(), "new");
  auto payload = decode(parts[1]);
  EXPECT_EQ(payload.at("sub").as_string(), "12");
  EXPECT_EQ(payload.at("factory_id").as_string(), "vpc");
  EXPECT_EQ(payload.at("factory_slug").as_string(), "vpc");
  EXPECT_EQ(payload.at("role").as_string(), "super_admin");
  EXPECT_EQ(payload.at("exp").as_int64(), kNow + 900);
  EXPECT_EQ(payload.at("iat").as_int64(), kNow);
  EXPECT_EQ(payload.at("tv").as_int64(), 3);
  EXPECT_TRUE(payload.contains("jti"));
  EXPECT_EQ(payload.size(), 8u);

  auto v = verify_access_token(ring(), token, kNow + 10);
  ASSERT_TRUE(v.claims) << v.problem;
  EXPECT_EQ(v.claims->user_id, 12);
  EXPECT_EQ(v.claims->factory_id, "vpc");
  EXPECT_EQ(v.claims->role, Role::super_admin);
  EXPECT_EQ(v.claims->token_version, 3);
}

TEST(JwtTest, OlderKeysOfTheRingStillVerify) {
  KeyRing only_old(std::vector<SigningKey>{{"old", "first-secret-at-least-32-characters-long"}});
  std::string token = sign_access_token(only_old, claims());
  EXPECT_TRUE(verify_access_token(ring(), token, kNow).claims);
}

TEST(JwtTest, AlgNoneIsRejected) {
  auto parts = split(sign_access_token(ring(), claims()));
  json::object header{{"alg", "none"}, {"typ", "JWT"}, {"kid", "new"}};
  EXPECT_FALSE(verify_access_token(ring(), part(header) + "." + parts[1] + ".", kNow).claims);
  EXPECT_FALSE(verify_access_token(ring(), part(header) + "." + parts[1] + "." + parts[2], kNow).claims);
}

TEST(JwtTest, OtherAlgorithmsAreRejectedEvenWithAValidHmac) {
  auto payload = decode(split(sign_access_token(ring(), claims()))[1]);
  for (const char* alg : {"HS512", "RS256", "hs256", "ES256"}) {
    json::object header{{"alg", alg}, {"typ", "JWT"}, {"kid", "new"}};
    auto v = verify_access_token(ring(), forge(header, payload, "second-secret-at-least-32-characters-long"),
                                 kNow);
    EXPECT_FALSE(v.claims) << alg;
    EXPECT_EQ(v.problem, "algorithm not accepted") << alg;
  }
}

TEST(JwtTest, BadSignatureAndWrongKeyAreRejected) {
  auto parts = split(sign_access_token(ring(), claims()));
  std::string sig = parts[2];
  sig[0] = sig[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_access_token(ring(), parts[0] + "." + parts[1] + "." + sig, kNow).claims);
  json::object header{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "new"}};
  auto v = verify_access_token(ring(),
                               forge(header, decode(parts[1]), "some-other-secret-of-enough-length!!"), kNow);
  EXPECT_EQ(v.problem, "bad signature");
}

TEST(JwtTest, UnknownOrMissingKidIsRejected) {
  auto payload = decode(split(sign_access_token(ring(), claims()))[1]);
  json::object unknown{{"alg", "HS256"}, {"kid", "gone"}};
  EXPECT_EQ(verify_access_token(ring(), forge(unknown, payload, "x"), kNow).problem, "unknown kid");
  json::object none{{"alg", "HS256"}};
  EXPECT_EQ(
      verify_access_token(ring(), forge(none, payload, "second-secret-at-least-32-characters-long"), kNow)
          .problem,
      "no kid");
}

TEST(JwtTest, ExpiredAndFutureTokensAreRejected) {
  std::string token = sign_access_token(ring(), claims());
  EXPECT_EQ(verify_access_token(ring(), token, kNow + 900).problem, "expired");
  EXPECT_FALSE(verify_access_token(ring(), token, kNow + 5000).claims);
  // Issued 31 s ahead of this clock: beyond the allowed skew.
  EXPECT_EQ(verify_access_token(ring(), token, kNow - kClockSkewSeconds - 1).problem, "issued in the future");
  EXPECT_TRUE(verify_access_token(ring(), token, kNow - kClockSkewSeconds).claims);

  auto payload = decode(split(token)[1]);
  payload["nbf"] = kNow + 120;
  json::object header{{"alg", "HS256"}, {"kid", "new"}};
  EXPECT_EQ(
      verify_access_token(ring(), forge(header, payload, "second-secret-at-least-32-characters-long"), kNow)
          .problem,
      "not yet valid");
}

TEST(JwtTest, TamperedClaimsAreRejected) {
  auto parts = split(sign_access_token(ring(), claims()));
  auto payload = decode(parts[1]);
  payload["factory_id"] = "other";
  payload["factory_slug"] = "other";
  EXPECT_EQ(verify_access_token(ring(), parts[0] + "." + part(payload) + "." + parts[2], kNow).problem,
            "bad signature");
  payload = decode(parts[1]);
  payload["role"] = "super_admin";
  payload["sub"] = "1";
  EXPECT_FALSE(verify_access_token(ring(), parts[0] + "." + part(payload) + "." + parts[2], kNow).claims);
}

TEST(JwtTest, MalformedTokensAreRejected) {
  for (const char* t : {"", "abc", "a.b", "a.b.c.d", "!!.??.##", "e30.e30.", "....."}) {
    EXPECT_FALSE(verify_access_token(ring(), t, kNow).claims) << t;
  }
  // Correctly signed but missing a required claim.
  json::object header{{"alg", "HS256"}, {"kid", "new"}};
  json::object payload{{"sub", "1"}, {"exp", kNow + 10}};
  EXPECT_EQ(
      verify_access_token(ring(), forge(header, payload, "second-secret-at-least-32-characters-long"), kNow)
          .problem,
      "missing claims");
}

TEST(KeyRingTest, ParsesKeyFilesAndTheLastLineSigns) {
  auto keys = parse_key_file("# rotated keys\n\nk1 first-secret\r\n  k2\tsecond-secret  \nk3 third\n");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[1].kid, "k2");
  EXPECT_EQ(keys[1].secret, "second-secret");
  KeyRing r(keys);
  EXPECT_EQ(r.signing().kid, "k3");
  EXPECT_NE(r.find("k1"), nullptr);
  EXPECT_EQ(r.find("k4"), nullptr);
}

TEST(KeyRingTest, RejectsMalformedFilesNamingTheLineNotTheSecret) {
  try {
    parse_key_file("k1 secret-one\nonly-a-kid\n");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos);
  }
  EXPECT_THROW(parse_key_file("k1 a\nk1 b\n"), std::invalid_argument);
  EXPECT_THROW(parse_key_file("bad/kid secret\n"), std::invalid_argument);
  EXPECT_THROW(parse_key_file("k1 two words\n"), std::invalid_argument);
  try {
    parse_key_file("k1 a-very-secret-value\nk1 a-very-secret-value\n");
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("a-very-secret-value"), std::string::npos);
  }
  EXPECT_THROW(KeyRing(std::vector<SigningKey>{}), std::invalid_argument);
}

TEST(CryptoTest, Base64UrlRoundTripsAndRejectsJunk) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                                       std::string("\0\xff\xfe", 3)}) {
    auto decoded = base64url_decode(base64url_encode(s));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(base64url_decode("Zm9v+mFy"));
  EXPECT_FALSE(base64url_decode("Z"));
  EXPECT_EQ(random_token(32).size(), 43u);
  EXPECT_NE(random_token(32), random_token(32));
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace factoryops::auth
