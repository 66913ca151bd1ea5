// User management and the audit log against the built binary, on SQLite and on MariaDB:
// invitations, role and active changes taking effect on the next request, the last
// super_admin rule, and the audit trail.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "integration/auth_support.hpp"

namespace factoryops::testing {
namespace {

class UsersAdminTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    stack_ = std::make_unique<IdentityStack>(GetParam(), "users_" + test.substr(0, test.find('/')));
    owner_password_ = stack_->bootstrap("vpc-1", "owner@vpc.example");
    owner_ = stack_->access_token("vpc-1", "owner@vpc.example", owner_password_);
  }

  IdentityStack& s() { return *stack_; }

  // Invites `email` as an admin with `permissions`, accepts, and returns the session body.
  json::object invite_and_accept(const std::string& email, const std::string& role = "admin",
                                 const std::string& permissions = R"({"machines":true})") {
    auto invite = s().post(
        "/api/v1/users/invite",
        R"({"email":")" + email + R"(","role":")" + role + R"(","permissions":)" + permissions + "}", owner_);
    EXPECT_EQ(invite.status, 201) << invite.body;
    std::string token = invite_token(std::string(object_of(invite.body).at("invite_url").as_string()));
    std::string password = make_secret(24);
    auto accepted = s().post("/api/v1/auth/accept-invite", json_body({{"token", json::value(token)},
                                                                      {"name", json::value("Invited Person")},
                                                                      {"password", json::value(password)}}));
    EXPECT_EQ(accepted.status, 200) << accepted.body;
    auto body = object_of(accepted.body);
    body["password"] = password;
    return body;
  }

  HttpResponse patch(std::int64_t id, const std::string& body, const std::string& token) {
    return s().server().request("PATCH", "/api/v1/users/" + std::to_string(id), body, bearer(token));
  }

  std::unique_ptr<IdentityStack> stack_;
  std::string owner_password_;
  std::string owner_;
};

TEST_P(UsersAdminTest, InviteAcceptAndTheAdminCannotManageUsers) {
  auto invite =
      s().post("/api/v1/users/invite",
               R"({"email":"Ops@VPC.example","role":"admin","permissions":{"rules":true}})", owner_);
  ASSERT_EQ(invite.status, 201) << invite.body;
  auto body = object_of(invite.body);
  // Without an SMTP server the link in the answer is the only way to pass the invitation on.
  EXPECT_EQ(body.at("email").as_string(), "not_configured");
  auto invitation = body.at("invitation").as_object();
  EXPECT_EQ(invitation.at("email").as_string(), "ops@vpc.example");
  EXPECT_EQ(invitation.at("role").as_string(), "admin");
  EXPECT_TRUE(invitation.at("permissions").as_object().at("rules").as_bool());
  EXPECT_FALSE(invitation.at("permissions").as_object().at("machines").as_bool());
  std::string url(body.at("invite_url").as_string());
  ASSERT_EQ(url.rfind("/accept-invite?token=", 0), 0u) << url;
  std::string token = invite_token(url);
  EXPECT_GE(token.size(), 43u);

  std::string password = make_secret(24);
  auto weak = s().post("/api/v1/auth/accept-invite", json_body({{"token", json::value(token)},
                                                                {"name", json::value("Ops")},
                                                                {"password", json::value("short")}}));
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(object_of(weak.body).at("error").as_object().at("field").as_string(), "password");
  auto accepted = s().post("/api/v1/auth/accept-invite", json_body({{"token", json::value(token)},
                                                                    {"name", json::value("Ops Person")},
                                                                    {"password", json::value(password)}}));
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(object_of(accepted.body).at("user").as_object().at("name").as_string(), "Ops Person");
  auto again = s().post("/api/v1/auth/accept-invite", json_body({{"token", json::value(token)},
                                                                 {"name", json::value("Ops")},
                                                                 {"password", json::value(password)}}));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(object_of(again.body).at("error").as_object().at("field").as_string(), "token");

  std::string admin = s().access_token("vpc-1", "ops@vpc.example", password);
  EXPECT_EQ(s().server().get("/api/v1/auth/me", bearer(admin)).status, 200);
  EXPECT_EQ(s().server().get("/api/v1/users", bearer(admin)).status, 403);
  EXPECT_EQ(s().server().get("/api/v1/audit-log", bearer(admin)).status, 403);
  EXPECT_EQ(s().post("/api/v1/users/invite", R"({"email":"x@vpc.example","role":"admin"})", admin).status,
            403);

  auto list = s().server().get("/api/v1/users", bearer(owner_));
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(object_of(list.body).at("total").as_int64(), 2);
  EXPECT_EQ(list.body.find("password"), std::string::npos);

  // An existing user cannot be invited again; bad fields are named.
  EXPECT_EQ(s().post("/api/v1/users/invite", R"({"email":"ops@vpc.example","role":"admin"})", owner_).status,
            409);
  auto bad_role = s().post("/api/v1/users/invite", R"({"email":"n@vpc.example","role":"boss"})", owner_);
  EXPECT_EQ(object_of(bad_role.body).at("error").as_object().at("field").as_string(), "role");
  auto bad_email = s().post("/api/v1/users/invite", R"({"email":"nope","role":"admin"})", owner_);
  EXPECT_EQ(object_of(bad_email.body).at("error").as_object().at("field").as_string(), "email");
  auto bad_perm = s().post("/api/v1/users/invite",
                           R"({"email":"n@vpc.example","role":"admin","permissions":{"x":true}})", owner_);
  EXPECT_EQ(object_of(bad_perm.body).at("error").as_object().at("field").as_string(), "permissions.x");
}

TEST_P(UsersAdminTest, RoleChangesAndDeactivationApplyOnTheNextRequest) {
  auto session = invite_and_accept("ops@vpc.example");
  std::string admin(session.at("access_token").as_string());
  std::string admin_refresh(session.at("refresh_token").as_string());
  std::int64_t id = session.at("user").as_object().at("id").as_int64();

  EXPECT_EQ(s().server().get("/api/v1/users", bearer(admin)).status, 403);
  auto promoted = patch(id, R"({"role":"super_admin"})", owner_);
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(object_of(promoted.body).at("role").as_string(), "super_admin");
  EXPECT_EQ(s().server().get("/api/v1/users", bearer(admin)).status, 200);
  ASSERT_EQ(patch(id, R"({"role":"admin","permissions":{"machines":false},"name":"Renamed"})", owner_).status,
            200);
  EXPECT_EQ(s().server().get("/api/v1/users", bearer(admin)).status, 403);

  auto bad = patch(id, R"({"is_active":"no"})", owner_);
  EXPECT_EQ(object_of(bad.body).at("error").as_object().at("field").as_string(), "is_active");
  EXPECT_EQ(patch(id, R"({"colour":"red"})", owner_).status, 400);
  EXPECT_EQ(patch(999999, R"({"name":"x"})", owner_).status, 404);

  ASSERT_EQ(s().server().request("DELETE", "/api/v1/users/" + std::to_string(id), "", bearer(owner_)).status,
            204);
  EXPECT_EQ(s().server().get("/api/v1/auth/me", bearer(admin)).status, 401);
  EXPECT_EQ(
      s().post("/api/v1/auth/refresh", json_body({{"refresh_token", json::value(admin_refresh)}})).status,
      401);
  EXPECT_EQ(s().login("vpc-1", "ops@vpc.example", std::string(session.at("password").as_string())).status,
            401);
}

TEST_P(UsersAdminTest, TheLastActiveSuperAdminStays) {
  auto me = object_of(s().server().get("/api/v1/auth/me", bearer(owner_)).body);
  std::int64_t owner_id = me.at("id").as_int64();
  EXPECT_EQ(patch(owner_id, R"({"role":"admin"})", owner_).status, 409);
  EXPECT_EQ(patch(owner_id, R"({"is_active":false})", owner_).status, 409);
  EXPECT_EQ(
      s().server().request("DELETE", "/api/v1/users/" + std::to_string(owner_id), "", bearer(owner_)).status,
      409);
  EXPECT_EQ(s().server().get("/api/v1/users", bearer(owner_)).status, 200);

  auto second = invite_and_accept("second@vpc.example", "super_admin", "{}");
  std::string second_token(second.at("access_token").as_string());
  EXPECT_EQ(patch(owner_id, R"({"role":"admin"})", second_token).status, 200);
  std::int64_t second_id = second.at("user").as_object().at("id").as_int64();
  EXPECT_EQ(s().server()
                .request("DELETE", "/api/v1/users/" + std::to_string(second_id), "", bearer(second_token))
                .status,
            409);
}

TEST_P(UsersAdminTest, TwoSimultaneousDemotionsCannotBothPass) {
  auto second = invite_and_accept("second@vpc.example", "super_admin", "{}");
  std::string second_token(second.at("access_token").as_string());
  std::int64_t second_id = second.at("user").as_object().at("id").as_int64();
  std::int64_t owner_id =
      object_of(s().server().get("/api/v1/auth/me", bearer(owner_)).body).at("id").as_int64();
  // Each super_admin demotes the other at the same moment: one must be refused.
  int first_status = 0;
  int second_status = 0;
  std::thread a([&] { first_status = patch(second_id, R"({"role":"admin"})", owner_).status; });
  std::thread b([&] { second_status = patch(owner_id, R"({"role":"admin"})", second_token).status; });
  a.join();
  b.join();
  std::vector<int> statuses{first_status, second_status};
  std::sort(statuses.begin(), statuses.end());
  // The loser is refused either as the last super_admin (409) or, if the winner demoted it
  // first, because it is no longer allowed to manage users (403).
  EXPECT_EQ(statuses[0], 200);
  EXPECT_TRUE(statuses[1] == 409 || statuses[1] == 403) << statuses[1];
  auto users = object_of(
      s().server().get("/api/v1/users", bearer(statuses[0] == first_status ? owner_ : second_token)).body);
  int active_super = 0;
  for (const auto& u : users.at("items").as_array()) {
    if (u.as_object().at("role").as_string() == "super_admin" && u.as_object().at("is_active").as_bool())
      ++active_super;
  }
  EXPECT_EQ(active_super, 1);
}

TEST_P(UsersAdminTest, TheAuditLogRecordsWhoDidWhat) {
  auto session = invite_and_accept("ops@vpc.example");
  std::int64_t id = session.at("user").as_object().at("id").as_int64();
  ASSERT_EQ(patch(id, R"({"permissions":{"reports":true}})", owner_).status, 200);
  ASSERT_EQ(s().server().request("DELETE", "/api/v1/users/" + std::to_string(id), "", bearer(owner_)).status,
            204);

  auto all = s().server().get("/api/v1/audit-log?limit=100", bearer(owner_));
  ASSERT_EQ(all.status, 200) << all.body;
  std::vector<std::string> actions;
  auto all_body = object_of(all.body);
  for (const auto& item : all_body.at("items").as_array())
    actions.emplace_back(item.as_object().at("action").as_string());
  for (const char* expected :
       {"auth.login", "user.invited", "user.invite_accepted", "user.updated", "user.deactivated"}) {
    EXPECT_NE(std::find(actions.begin(), actions.end(), expected), actions.end()) << expected;
  }

  auto updated = object_of(s().server().get("/api/v1/audit-log?action=user.updated", bearer(owner_)).body);
  ASSERT_EQ(updated.at("total").as_int64(), 1);
  auto entry = updated.at("items").as_array()[0].as_object();
  EXPECT_EQ(entry.at("user_email").as_string(), "owner@vpc.example");
  EXPECT_EQ(entry.at("resource_id").as_string(), std::to_string(id));
  EXPECT_TRUE(entry.at("details").as_object().at("changes").as_object().contains("permissions"));
  EXPECT_FALSE(entry.at("request_id").as_string().empty());
  EXPECT_EQ(entry.at("ip").as_string(), "127.0.0.1");

  auto page = object_of(s().server().get("/api/v1/audit-log?limit=1&offset=1", bearer(owner_)).body);
  EXPECT_EQ(page.at("items").as_array().size(), 1u);
  EXPECT_GT(page.at("total").as_int64(), 1);
  auto future =
      object_of(s().server().get("/api/v1/audit-log?from=2999-01-01T00:00:00Z", bearer(owner_)).body);
  EXPECT_EQ(future.at("total").as_int64(), 0);
  auto bad_limit = s().server().get("/api/v1/audit-log?limit=0", bearer(owner_));
  EXPECT_EQ(object_of(bad_limit.body).at("error").as_object().at("field").as_string(), "limit");
  auto bad_from = s().server().get("/api/v1/audit-log?from=yesterday", bearer(owner_));
  EXPECT_EQ(object_of(bad_from.body).at("error").as_object().at("field").as_string(), "from");
  EXPECT_EQ(all.body.find(std::string(session.at("password").as_string())), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, UsersAdminTest, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace factoryops::testing
