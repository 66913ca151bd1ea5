// The dead-letter routes on a running server: a factory's super admin lists its failed jobs,
// re-queues or deletes them (audited), and never sees or touches another factory's.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth_support.hpp"
#include "db/database.hpp"
#include "queue/sql_queue.hpp"

namespace factoryops::queue {
namespace {

using testing::bearer;
using testing::IdentityStack;
using testing::object_of;

class DeadLettersHttp : public ::testing::Test {
 protected:
  DeadLettersHttp() : stack_("sqlite", "dead-letters") {
    acme_token_ = stack_.access_token("acme", "owner@acme.test", stack_.bootstrap("acme", "owner@acme.test"));
    globex_token_ =
        stack_.access_token("globex", "owner@globex.test", stack_.bootstrap("globex", "owner@globex.test"));
    // The server's own metadata database: jobs written here are the ones it serves.
    database_ = db::Database::open("sqlite:///" + (stack_.server().data_dir() / "factoryops.db").string());
    queue_ = std::make_unique<SqlQueue>(*database_, QueueOptions{});
  }

  // A job of `factory` that failed for good; returns its id.
  std::string dead_job(const std::string& factory, const std::string& error) {
    const std::string id = queue_->enqueue(
        make_job("notifications", "send_email", factory, "req-dead-1", R"({"to":"ops@x.test"})"));
    auto job = queue_->claim("notifications", "test");
    EXPECT_TRUE(job.has_value());
    EXPECT_EQ(queue_->fail(*job, error, true), FailOutcome::dead_lettered);
    return id;
  }

  boost::json::array items(const std::string& token, const std::string& query = "") {
    auto r = stack_.server().get("/api/v1/jobs/dead-letters" + query, bearer(token));
    EXPECT_EQ(r.status, 200) << r.body;
    auto body = object_of(r.body);
    return body.contains("items") ? body.at("items").as_array() : boost::json::array{};
  }

  IdentityStack stack_;
  std::string acme_token_;
  std::string globex_token_;
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<SqlQueue> queue_;
};

TEST_F(DeadLettersHttp, ASuperAdminListsRequeuesAndDeletesOnlyTheirFactorysDeadLetters) {
  const std::string id = dead_job("acme", "smtp: 550 mailbox unavailable");

  auto listed = items(acme_token_);
  ASSERT_EQ(listed.size(), 1u);
  const auto& item = listed[0].as_object();
  EXPECT_EQ(item.at("id"), boost::json::value(id));
  EXPECT_EQ(item.at("queue"), "notifications");
  EXPECT_EQ(item.at("task"), "send_email");
  EXPECT_EQ(item.at("request_id"), "req-dead-1");
  EXPECT_EQ(item.at("attempts"), 1);
  EXPECT_EQ(item.at("last_error"), "smtp: 550 mailbox unavailable");
  EXPECT_EQ(item.at("payload").at("to"), "ops@x.test");
  EXPECT_TRUE(items(acme_token_, "?queue=rule-engine").empty());
  EXPECT_EQ(stack_.server().get("/api/v1/jobs/dead-letters?limit=0", bearer(acme_token_)).status, 400);
  EXPECT_EQ(stack_.server().get("/api/v1/jobs/dead-letters").status, 401);

  // Another factory: sees nothing, and the id does not exist for it.
  EXPECT_TRUE(items(globex_token_).empty());
  EXPECT_EQ(stack_.post("/api/v1/jobs/dead-letters/" + id + "/requeue", "", globex_token_).status, 404);
  EXPECT_EQ(
      stack_.server().request("DELETE", "/api/v1/jobs/dead-letters/" + id, "", bearer(globex_token_)).status,
      404);
  EXPECT_EQ(items(acme_token_).size(), 1u);

  auto requeued = stack_.post("/api/v1/jobs/dead-letters/" + id + "/requeue", "", acme_token_);
  EXPECT_EQ(requeued.status, 204) << requeued.body;
  EXPECT_TRUE(items(acme_token_).empty());
  auto again = queue_->claim("notifications", "test");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id, id);
  EXPECT_EQ(again->factory_id, "acme");
  queue_->ack(*again);

  const std::string other = dead_job("acme", "twilio: 21211 invalid number");
  auto deleted =
      stack_.server().request("DELETE", "/api/v1/jobs/dead-letters/" + other, "", bearer(acme_token_));
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_TRUE(items(acme_token_).empty());
  EXPECT_EQ(
      stack_.server().request("DELETE", "/api/v1/jobs/dead-letters/" + other, "", bearer(acme_token_)).status,
      404);

  auto audit = stack_.server().get("/api/v1/audit-log?action=job.requeued", bearer(acme_token_));
  ASSERT_EQ(audit.status, 200);
  EXPECT_NE(audit.body.find("\"resource_id\":\"" + id + "\""), std::string::npos) << audit.body;
  audit = stack_.server().get("/api/v1/audit-log?action=job.deleted", bearer(acme_token_));
  EXPECT_NE(audit.body.find("\"resource_id\":\"" + other + "\""), std::string::npos) << audit.body;
}

}  // namespace
}  // namespace factoryops::queue
