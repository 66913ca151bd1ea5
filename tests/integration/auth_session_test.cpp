// Sign-in, sessions, key rotation and token attacks against the built binary, on SQLite and
// on MariaDB.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "auth/crypto.hpp"
#include "auth/jwt.hpp"
#include "integration/auth_support.hpp"

namespace factoryops::testing {
namespace {

class AuthSessionTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<IdentityStack> stack(const std::string& label,
                                       std::map<std::string, std::string> env = {}) {
    return std::make_unique<IdentityStack>(GetParam(), label, std::move(env));
  }
};

json::object token_part(const std::string& token, int index) {
  auto a = token.find('.');
  auto b = token.find('.', a + 1);
  std::string part = index == 0 ? token.substr(0, a) : token.substr(a + 1, b - a - 1);
  return json::parse(*auth::base64url_decode(part)).as_object();
}

TEST_P(AuthSessionTest, CliValidatesFactoriesAndUsers) {
  auto s = stack("cli");
  auto bad_tz =
      s->cli({"admin", "create-factory", "--id", "vpc-1", "--name", "VPC", "--timezone", "Asia/Atlantis"});
  EXPECT_EQ(bad_tz.status, 2) << bad_tz.output;
  EXPECT_NE(bad_tz.output.find("timezone"), std::string::npos) << bad_tz.output;
  auto bad_id = s->cli({"admin", "create-factory", "--id", "VPC!", "--name", "VPC", "--timezone", "UTC"});
  EXPECT_EQ(bad_id.status, 2) << bad_id.output;
  EXPECT_NE(bad_id.output.find("factory_id"), std::string::npos) << bad_id.output;
  auto ok =
      s->cli({"admin", "create-factory", "--id", "vpc-1", "--name", "VPC", "--timezone", "Asia/Kolkata"});
  EXPECT_EQ(ok.status, 0) << ok.output;
  auto dup = s->cli({"admin", "create-factory", "--id", "vpc-1", "--name", "Again", "--timezone", "UTC"});
  EXPECT_EQ(dup.status, 1) << dup.output;
  EXPECT_NE(dup.output.find("already exists"), std::string::npos) << dup.output;

  std::string password = make_secret(24);
  auto user = [&](const std::string& factory, const std::string& email, const std::string& role,
                  const std::optional<std::string>& input) {
    return s->cli({"admin", "create-user", "--factory", factory, "--email", email, "--role", role}, input);
  };
  auto bad_role = user("vpc-1", "a@vpc.example", "owner", password + "\n");
  EXPECT_EQ(bad_role.status, 2);
  EXPECT_NE(bad_role.output.find("role"), std::string::npos) << bad_role.output;
  auto bad_email = user("vpc-1", "not-an-email", "admin", password + "\n");
  EXPECT_EQ(bad_email.status, 2);
  EXPECT_NE(bad_email.output.find("email"), std::string::npos) << bad_email.output;
  auto weak = user("vpc-1", "a@vpc.example", "admin", std::string("password1234\n"));
  EXPECT_EQ(weak.status, 2);
  EXPECT_NE(weak.output.find("password"), std::string::npos) << weak.output;
  auto no_factory = user("nowhere", "a@vpc.example", "admin", password + "\n");
  EXPECT_EQ(no_factory.status, 2) << no_factory.output;
  EXPECT_NE(no_factory.output.find("factory"), std::string::npos) << no_factory.output;

  auto created = user("vpc-1", "Owner@VPC.example", "super_admin", password + "\n");
  EXPECT_EQ(created.status, 0) << created.output;
  auto taken = user("vpc-1", "owner@vpc.example", "admin", password + "\n");
  EXPECT_EQ(taken.status, 1) << taken.output;
  EXPECT_NE(taken.output.find("already exists"), std::string::npos) << taken.output;

  // The same address may belong to another factory; with no password on stdin one is
  // generated and printed once (on purpose, so it is not registered as a leak).
  ASSERT_EQ(
      s->cli({"admin", "create-factory", "--id", "plant-2", "--name", "Two", "--timezone", "UTC"}).status, 0);
  auto generated = user("plant-2", "owner@vpc.example", "super_admin", std::nullopt);
  ASSERT_EQ(generated.status, 0) << "create-user failed";
  auto at = generated.output.find("(shown once): ");
  ASSERT_NE(at, std::string::npos);
  std::string printed = generated.output.substr(at + 14, generated.output.find('\n', at) - at - 14);
  EXPECT_GE(printed.size(), 16u);
  EXPECT_EQ(s->login("plant-2", "owner@vpc.example", printed).status, 200);
  EXPECT_EQ(s->login("vpc-1", "owner@vpc.example", password).status, 200);
  EXPECT_NE(s->login("plant-2", "owner@vpc.example", password).status, 200);
}

TEST_P(AuthSessionTest, LoginSucceedsAndEveryFailureLooksTheSame) {
  auto s = stack("login");
  std::string password = s->bootstrap("vpc-1", "owner@vpc.example");
  auto r = s->login("vpc-1", "OWNER@vpc.example", password);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = object_of(r.body);
  EXPECT_EQ(body.at("token_type").as_string(), "bearer");
  EXPECT_EQ(body.at("expires_in").as_int64(), 900);
  EXPECT_GE(body.at("refresh_token").as_string().size(), 43u);
  EXPECT_EQ(body.at("user").as_object().at("email").as_string(), "owner@vpc.example");
  EXPECT_EQ(body.at("user").as_object().at("role").as_string(), "super_admin");
  std::string token(body.at("access_token").as_string());
  auto claims = token_part(token, 1);
  EXPECT_EQ(claims.at("factory_id").as_string(), "vpc-1");
  EXPECT_EQ(claims.at("factory_slug").as_string(), "vpc-1");
  EXPECT_EQ(claims.at("sub").as_string(), std::to_string(body.at("user").as_object().at("id").as_int64()));
  EXPECT_EQ(token_part(token, 0).at("kid").as_string(), "default");

  auto me = s->server().get("/api/v1/auth/me", bearer(token));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_FALSE(object_of(me.body).at("last_login_at").is_null());

  std::string wrong = make_secret(24);
  std::vector<HttpResponse> failures = {s->login("no-such-plant", "owner@vpc.example", password),
                                        s->login("vpc-1", "nobody@vpc.example", password),
                                        s->login("vpc-1", "owner@vpc.example", wrong)};
  for (const auto& f : failures) {
    EXPECT_EQ(f.status, 401) << f.body;
    auto error = object_of(f.body).at("error").as_object();
    EXPECT_EQ(error.at("code").as_string(), "unauthorized");
    EXPECT_EQ(error.at("message").as_string(),
              object_of(failures[0].body).at("error").as_object().at("message").as_string());
  }
  auto missing = s->post("/api/v1/auth/login", R"({"factory_id":"vpc-1","email":"owner@vpc.example"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(object_of(missing.body).at("error").as_object().at("field").as_string(), "password");
}

TEST_P(AuthSessionTest, UnknownAccountsCostAsMuchTimeAsWrongPasswords) {
  auto s = stack("timing");
  std::string password = s->bootstrap("vpc-1", "owner@vpc.example");
  std::string wrong = make_secret(24);
  // The fastest of three attempts: scheduling noise on a busy machine only ever adds time.
  // Three per account stays under the throttle's limit of five.
  auto timed = [&](const std::string& factory, const std::string& email) {
    auto best = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 3; ++i) {
      auto start = std::chrono::steady_clock::now();
      EXPECT_EQ(s->login(factory, email, wrong).status, 401);
      best = std::min(best, std::chrono::steady_clock::now() - start);
    }
    return best;
  };
  auto unknown_factory = timed("no-such-plant", "owner@vpc.example");
  auto unknown_email = timed("vpc-1", "nobody@vpc.example");
  auto wrong_password = timed("vpc-1", "owner@vpc.example");
  // All three run one bcrypt verification (tens of milliseconds at cost 12), so none of them
  // is an order of magnitude faster than a wrong password.
  EXPECT_GT(unknown_factory * 4, wrong_password);
  EXPECT_GT(unknown_email * 4, wrong_password);
  EXPECT_GT(wrong_password, std::chrono::milliseconds(20));
}

TEST_P(AuthSessionTest, FiveFailuresThenTooManyRequestsWithRetryAfter) {
  auto s = stack("throttle");
  std::string password = s->bootstrap("vpc-1", "owner@vpc.example");
  std::string token = s->access_token("vpc-1", "owner@vpc.example", password);
  std::string wrong = make_secret(24);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s->login("vpc-1", "owner@vpc.example", wrong).status, 401) << i;
  auto blocked = s->login("vpc-1", "owner@vpc.example", password);
  ASSERT_EQ(blocked.status, 429) << blocked.body;
  EXPECT_EQ(object_of(blocked.body).at("error").as_object().at("code").as_string(), "rate_limited");
  int retry_after = std::stoi(blocked.header("retry-after"));
  EXPECT_GT(retry_after, 800);
  EXPECT_LE(retry_after, 900);
  // Another account of the same factory is not locked out by this one's failures.
  EXPECT_EQ(s->login("vpc-1", "someone@vpc.example", wrong).status, 401);
  auto audit = s->server().get("/api/v1/audit-log?action=auth.login_failed", bearer(token));
  ASSERT_EQ(audit.status, 200) << audit.body;
  auto items = object_of(audit.body).at("items").as_array();
  EXPECT_EQ(items.size(), 6u);
  EXPECT_EQ(audit.body.find(wrong), std::string::npos);
  // Newest first: the other account's failure, then the owner's five.
  EXPECT_EQ(items[1].as_object().at("details").as_object().at("email").as_string(), "owner@vpc.example");
  EXPECT_EQ(items[1].as_object().at("details").as_object().at("reason").as_string(), "wrong_password");
  EXPECT_FALSE(items[1].as_object().at("ip").is_null());
}

TEST_P(AuthSessionTest, TwentyFailuresFromOneAddressAreThrottled) {
  auto s = stack("throttle-ip");
  std::string wrong = make_secret(24);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(s->login("vpc-1", "user" + std::to_string(i) + "@vpc.example", wrong).status, 401) << i;
  }
  auto blocked = s->login("vpc-1", "fresh@vpc.example", wrong);
  EXPECT_EQ(blocked.status, 429);
  EXPECT_FALSE(blocked.header("retry-after").empty());
}

TEST_P(AuthSessionTest, RefreshRotatesAndReuseRevokesTheFamily) {
  auto s = stack("refresh");
  std::string password = s->bootstrap("vpc-1", "owner@vpc.example");
  auto login = object_of(s->login("vpc-1", "owner@vpc.example", password).body);
  std::string r1(login.at("refresh_token").as_string());
  auto refresh = [&](const std::string& token) {
    return s->post("/api/v1/auth/refresh", json_body({{"refresh_token", json::value(token)}}));
  };
  auto second = refresh(r1);
  ASSERT_EQ(second.status, 200) << second.body;
  std::string r2(object_of(second.body).at("refresh_token").as_string());
  std::string a2(object_of(second.body).at("access_token").as_string());
  EXPECT_NE(r1, r2);
  EXPECT_EQ(s->server().get("/api/v1/auth/me", bearer(a2)).status, 200);

  EXPECT_EQ(refresh(r1).status, 401);  // spent: reuse detected
  EXPECT_EQ(refresh(r2).status, 401);  // the whole family is gone
  EXPECT_EQ(refresh("not-a-token").status, 401);

  std::string token = s->access_token("vpc-1", "owner@vpc.example", password);
  auto audit = s->server().get("/api/v1/audit-log?action=auth.refresh_reuse", bearer(token));
  ASSERT_EQ(audit.status, 200);
  EXPECT_EQ(object_of(audit.body).at("total").as_int64(), 1);
}

TEST_P(AuthSessionTest, LogoutRevokesTheRefreshToken) {
  auto s = stack("logout");
  std::string password = s->bootstrap("vpc-1", "owner@vpc.example");
  auto login = object_of(s->login("vpc-1", "owner@vpc.example", password).body);
  std::string refresh_token(login.at("refresh_token").as_string());
  EXPECT_EQ(s->post("/api/v1/auth/logout", json_body({{"refresh_token", json::value(refresh_token)}})).status,
            204);
  EXPECT_EQ(
      s->post("/api/v1/auth/refresh", json_body({{"refresh_token", json::value(refresh_token)}})).status,
      401);
  EXPECT_EQ(s->post("/api/v1/auth/logout", json_body({{"refresh_token", json::value("unknown")}})).status,
            204);
}

TEST_P(AuthSessionTest, ChangingThePasswordEndsEverySession) {
  auto s = stack("password");
  std::string password = s->bootstrap("vpc-1", "owner@vpc.example");
  auto login = object_of(s->login("vpc-1", "owner@vpc.example", password).body);
  std::string old_access(login.at("access_token").as_string());
  std::string old_refresh(login.at("refresh_token").as_string());
  std::string next = make_secret(24);

  auto change = [&](const std::string& current, const std::string& wanted) {
    return s->post(
        "/api/v1/auth/change-password",
        json_body({{"current_password", json::value(current)}, {"new_password", json::value(wanted)}}),
        old_access);
  };
  auto weak = change(password, "aaaaaaaaaaaaaaaa");
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(object_of(weak.body).at("error").as_object().at("field").as_string(), "new_password");
  EXPECT_EQ(change(make_secret(24), next).status, 401);
  ASSERT_EQ(change(password, next).status, 204);

  EXPECT_EQ(s->server().get("/api/v1/auth/me", bearer(old_access)).status, 401);
  EXPECT_EQ(s->post("/api/v1/auth/refresh", json_body({{"refresh_token", json::value(old_refresh)}})).status,
            401);
  EXPECT_EQ(s->login("vpc-1", "owner@vpc.example", password).status, 401);
  EXPECT_EQ(
      s->server().get("/api/v1/auth/me", bearer(s->access_token("vpc-1", "owner@vpc.example", next))).status,
      200);
}

TEST_P(AuthSessionTest, TokenAttacksAreRefused) {
  std::string secret = make_secret(40);
  auto s = stack("attacks", {{"FACTORYOPS_JWT_SECRET", secret}});
  std::string pa = s->bootstrap("plant-a", "owner@a.example");
  std::string pb = s->bootstrap("plant-b", "owner@b.example");
  auto login_a = object_of(s->login("plant-a", "owner@a.example", pa).body);
  auto login_b = object_of(s->login("plant-b", "owner@b.example", pb).body);
  std::string token_b(login_b.at("access_token").as_string());
  std::int64_t user_a = login_a.at("user").as_object().at("id").as_int64();
  std::int64_t user_b = login_b.at("user").as_object().at("id").as_int64();

  auto status_of = [&](const std::string& token) {
    return s->server().get("/api/v1/users", bearer(token)).status;
  };
  EXPECT_EQ(s->server().get("/api/v1/users").status, 401);
  EXPECT_EQ(status_of("garbage"), 401);

  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auth::AccessClaims claims;
  claims.user_id = user_b;
  claims.factory_id = "plant-b";
  claims.role = auth::Role::super_admin;
  claims.issued_at = now;
  claims.expires_at = now + 600;
  claims.jti = "test";
  claims.token_version = 0;
  auth::KeyRing real(std::vector<auth::SigningKey>{{"default", secret}});
  EXPECT_EQ(status_of(auth::sign_access_token(real, claims)), 200);  // the forgery kit itself is sound

  std::string wrong_secret = make_secret(40);
  auth::KeyRing wrong(std::vector<auth::SigningKey>{{"default", wrong_secret}});
  EXPECT_EQ(status_of(auth::sign_access_token(wrong, claims)), 401);

  std::string valid = auth::sign_access_token(real, claims);
  std::string payload = valid.substr(valid.find('.') + 1, valid.rfind('.') - valid.find('.') - 1);
  std::string none_header = auth::base64url_encode(R"({"alg":"none","typ":"JWT","kid":"default"})");
  EXPECT_EQ(status_of(none_header + "." + payload + "."), 401);
  std::string hs512_header = auth::base64url_encode(R"({"alg":"HS512","typ":"JWT","kid":"default"})");
  EXPECT_EQ(status_of(hs512_header + "." + payload + "." + valid.substr(valid.rfind('.') + 1)), 401);

  // Tampered: factory B's token edited to name factory A, signature kept.
  auto tampered_claims = token_part(token_b, 1);
  tampered_claims["factory_id"] = "plant-a";
  tampered_claims["factory_slug"] = "plant-a";
  tampered_claims["sub"] = std::to_string(user_a);
  EXPECT_EQ(status_of(token_b.substr(0, token_b.find('.')) + "." +
                      auth::base64url_encode(json::serialize(tampered_claims)) +
                      token_b.substr(token_b.rfind('.'))),
            401);

  auth::AccessClaims expired = claims;
  expired.issued_at = now - 3600;
  expired.expires_at = now - 60;
  EXPECT_EQ(status_of(auth::sign_access_token(real, expired)), 401);
  auth::AccessClaims future = claims;
  future.issued_at = now + 600;
  future.expires_at = now + 1200;
  EXPECT_EQ(status_of(auth::sign_access_token(real, future)), 401);

  // A correctly signed token whose factory_id claim does not own the user id.
  auth::AccessClaims foreign = claims;
  foreign.factory_id = "plant-a";
  EXPECT_EQ(status_of(auth::sign_access_token(real, foreign)), 401);

  // Factory B's real token aimed at factory A's user: not found, and no data.
  auto cross = s->server().request("PATCH", "/api/v1/users/" + std::to_string(user_a), R"({"name":"x"})",
                                   bearer(token_b));
  EXPECT_EQ(cross.status, 404) << cross.body;
  EXPECT_EQ(cross.body.find("owner@a.example"), std::string::npos);
  EXPECT_EQ(
      s->server().request("DELETE", "/api/v1/users/" + std::to_string(user_a), "", bearer(token_b)).status,
      404);
}

TEST_P(AuthSessionTest, RotatedKeysSignNewTokensAndOldOnesStillVerify) {
  auto s = stack("rotation");
  std::string password = s->bootstrap("vpc-1", "owner@vpc.example");
  std::string before = s->access_token("vpc-1", "owner@vpc.example", password);
  EXPECT_EQ(token_part(before, 0).at("kid").as_string(), "default");

  auto rotated = s->cli({"admin", "rotate-jwt-key"});
  ASSERT_EQ(rotated.status, 0) << rotated.output;
  auto at = rotated.output.find("added key ");
  ASSERT_NE(at, std::string::npos);
  std::string kid = rotated.output.substr(at + 10, rotated.output.find(' ', at + 10) - at - 10);
  s->server().process().signal(SIGHUP);

  std::string after;
  for (int i = 0; i < 50; ++i) {
    after = s->access_token("vpc-1", "owner@vpc.example", password);
    if (token_part(after, 0).at("kid").as_string() == kid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(token_part(after, 0).at("kid").as_string(), kid);
  EXPECT_EQ(s->server().get("/api/v1/auth/me", bearer(before)).status, 200);
  EXPECT_EQ(s->server().get("/api/v1/auth/me", bearer(after)).status, 200);
  EXPECT_TRUE(s->server().process().running());
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthSessionTest, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace factoryops::testing
