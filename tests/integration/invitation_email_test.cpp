// Invitation emails through the notifications role, against the built binary: the invite route
// queues the email, a real SMTP server (STARTTLS, AUTH) receives it with the link that accepts
// the invitation, the link works, and every attempt, sent or failed, is on the audit log.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "auth_support.hpp"
#include "harness/notify_servers.hpp"
#include "harness/wait.hpp"

namespace factoryops::testing {
namespace {

class InvitationEmailTest : public ::testing::Test {
 protected:
  // A wrong SMTP password makes every attempt fail authentication.
  void start(const std::string& label, bool right_password) {
    smtp_ = std::make_unique<SmtpSink>(SmtpSink::Mode::starttls);
    register_secret(smtp_->password());
    std::map<std::string, std::string> env = {
        {"FACTORYOPS_SMTP_URL", smtp_->url()},
        {"FACTORYOPS_SMTP_USERNAME", smtp_->username()},
        {"FACTORYOPS_SMTP_PASSWORD", right_password ? smtp_->password() : "not-the-password"},
        {"FACTORYOPS_SMTP_FROM", "FactoryOps <noreply@factoryops.example>"},
        {"FACTORYOPS_SMTP_CA_FILE", smtp_->ca_file()},
        {"FACTORYOPS_PUBLIC_URL", "https://factoryops.example"},
    };
    stack_ = std::make_unique<IdentityStack>("sqlite", label, env, "api,notifications");
    std::string password = stack_->bootstrap("alpha", "owner@alpha.example");
    token_ = stack_->access_token("alpha", "owner@alpha.example", password);
  }

  // The factory's audit entries of `action`.
  json::array audit(const std::string& action) {
    auto r = stack_->server().get("/api/v1/audit-log?action=" + action, bearer(token_));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return object_of(r.body).at("items").as_array();
  }

  std::unique_ptr<SmtpSink> smtp_;
  std::unique_ptr<IdentityStack> stack_;
  std::string token_;
};

TEST_F(InvitationEmailTest, TheEmailCarriesAWorkingLinkAndIsAudited) {
  start("invitation-email", true);
  auto invite =
      stack_->post("/api/v1/users/invite", R"({"email":"New.Person@Alpha.example","role":"admin"})", token_);
  ASSERT_EQ(invite.status, 201) << invite.body;
  auto body = object_of(invite.body);
  EXPECT_EQ(body.at("email"), "queued");
  const std::string token = invite_token(std::string(body.at("invite_url").as_string()));
  register_secret(token);
  const auto invitation_id = body.at("invitation").at("id").to_number<std::int64_t>();

  ASSERT_TRUE(smtp_->wait_for_messages(1, std::chrono::seconds(30))) << "no invitation email arrived";
  auto mail = smtp_->messages().at(0);
  EXPECT_EQ(json::serialize(mail.at("rcpt_tos")), R"(["new.person@alpha.example"])");
  EXPECT_EQ(mail.at("headers").at("Subject"), "Invitation to Plant alpha on FactoryOps");
  const std::string link = "https://factoryops.example/accept-invite?token=" + token;
  std::string text;
  std::string html;
  for (const auto& part : mail.at("parts").as_array()) {
    (part.at("content_type") == "text/html" ? html : text) += std::string(part.at("content").as_string());
  }
  EXPECT_NE(text.find(link), std::string::npos) << text;
  EXPECT_NE(text.find("Owner invites you to join Plant alpha on FactoryOps as admin"), std::string::npos)
      << text;
  EXPECT_NE(html.find("href=\"" + link + "\""), std::string::npos) << html;

  // The link in the email is what the new user follows.
  const std::string emailed = text.substr(text.find("token=") + 6, token.size());
  auto accepted =
      stack_->post("/api/v1/auth/accept-invite", json_body({{"token", json::value(emailed)},
                                                            {"name", json::value("New Person")},
                                                            {"password", json::value(make_secret(24))}}));
  EXPECT_EQ(accepted.status, 200) << accepted.body;

  json::array sent;
  ASSERT_TRUE(eventually([&] {
    sent = audit("user.invitation_emailed");
    return !sent.empty();
  })) << "no audit entry for the email";
  ASSERT_EQ(sent.size(), 1u) << sent;
  EXPECT_EQ(sent[0].at("resource_id"), json::value(std::to_string(invitation_id)));
  EXPECT_EQ(sent[0].at("details").at("email"), "new.person@alpha.example");
  EXPECT_EQ(sent[0].at("details").at("attempt"), 1);
  // The invite request's id follows the job to its audit entry.
  auto invited = audit("user.invited");
  ASSERT_EQ(invited.size(), 1u);
  EXPECT_EQ(sent[0].at("request_id"), invited[0].at("request_id"));
}

TEST_F(InvitationEmailTest, AFailedAttemptIsAuditedWithItsReasonAndTheLinkStillWorks) {
  start("invitation-email-refused", false);
  auto invite =
      stack_->post("/api/v1/users/invite", R"({"email":"late@alpha.example","role":"admin"})", token_);
  ASSERT_EQ(invite.status, 201) << invite.body;
  auto body = object_of(invite.body);
  EXPECT_EQ(body.at("email"), "queued");

  json::array failed;
  ASSERT_TRUE(eventually([&] {
    failed = audit("user.invitation_email_failed");
    return !failed.empty();
  })) << "no audit entry for the failed email";
  const auto& details = failed[0].at("details");
  EXPECT_EQ(details.at("email"), "late@alpha.example");
  EXPECT_EQ(details.at("code"), "authentication");
  EXPECT_EQ(details.at("retried"), false);
  EXPECT_TRUE(smtp_->messages().empty());
  // Wrong credentials are not retried: one attempt, one entry.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(audit("user.invitation_email_failed").size(), 1u);

  // The super admin can still pass the link on by hand.
  const std::string token = invite_token(std::string(body.at("invite_url").as_string()));
  register_secret(token);
  auto accepted =
      stack_->post("/api/v1/auth/accept-invite", json_body({{"token", json::value(token)},
                                                            {"name", json::value("Late")},
                                                            {"password", json::value(make_secret(24))}}));
  EXPECT_EQ(accepted.status, 200) << accepted.body;
}

}  // namespace
}  // namespace factoryops::testing
