// `factoryops serve` on MariaDB, as production runs it: the schema is migrated by the
// operator, /health follows the database, and an outage answers 503 instead of hanging.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "harness/factoryops.hpp"
#include "harness/mariadb.hpp"

namespace factoryops::testing {
namespace {

namespace json = boost::json;

json::object body_of(const HttpResponse& r) {
  return json::parse(r.body).as_object();
}

// Polls /health until it answers `status`, or gives up after `timeout`.
HttpResponse wait_for_health(const FactoryopsServer& server, int status, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  HttpResponse r;
  while (std::chrono::steady_clock::now() < deadline) {
    r = server.get("/health");
    if (r.status == status) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return r;
}

TEST(ServeMysqlTest, HealthFollowsTheDatabaseThroughAnOutage) {
  auto mariadb = MariaDbServer::start();
  std::string url = mariadb->create_database("fo_serve_health");

  auto migrated = run_factoryops({"migrate"}, {{"FACTORYOPS_DATABASE_URL", url}});
  ASSERT_EQ(migrated.status, 0) << migrated.output;
  EXPECT_NE(migrated.output.find("applied 0001_initial"), std::string::npos) << migrated.output;

  ServeOptions o;
  o.label = "serve-mysql";
  o.env = {{"FACTORYOPS_DATABASE_URL", url}};
  FactoryopsServer server(o);

  auto healthy = wait_for_health(server, 200, std::chrono::seconds(10));
  ASSERT_EQ(healthy.status, 200) << healthy.body;
  EXPECT_EQ(body_of(healthy).at("dependencies").as_object().at("mysql").as_string(), "ok");
  EXPECT_EQ(body_of(server.get("/api/v1/system/info")).at("metadata_backend").as_string(), "mysql");

  mariadb->stop();
  auto start = std::chrono::steady_clock::now();
  auto down = wait_for_health(server, 503, std::chrono::seconds(15));
  ASSERT_EQ(down.status, 503) << down.body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(body_of(down).at("status").as_string(), "unhealthy");
  EXPECT_EQ(body_of(down).at("dependencies").as_object().at("mysql").as_string(), "down");
  EXPECT_EQ(server.get("/metrics").status, 200) << "the process must keep serving during the outage";

  mariadb->restart();
  auto back = wait_for_health(server, 200, std::chrono::seconds(20));
  EXPECT_EQ(back.status, 200) << back.body;
}

TEST(ServeMysqlTest, RefusesToStartOnAnUnmigratedSchema) {
  std::string url = MariaDbServer::shared().create_database("fo_serve_unmigrated");
  auto r = run_factoryops({"serve"}, {{"FACTORYOPS_DATABASE_URL", url},
                                      {"FACTORYOPS_HTTP_PORT", std::to_string(free_port())},
                                      {"FACTORYOPS_HTTP_ADDRESS", "127.0.0.1"}});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("factoryops migrate"), std::string::npos) << r.output;
}

TEST(ServeMysqlTest, MigrateStatusListsMysqlMigrations) {
  std::string url = MariaDbServer::shared().create_database("fo_migrate_status");
  auto before = run_factoryops({"migrate", "--status"}, {{"FACTORYOPS_DATABASE_URL", url}});
  ASSERT_EQ(before.status, 0) << before.output;
  EXPECT_NE(before.output.find("pending"), std::string::npos) << before.output;
  ASSERT_EQ(run_factoryops({"migrate"}, {{"FACTORYOPS_DATABASE_URL", url}}).status, 0);
  auto after = run_factoryops({"migrate", "--status"}, {{"FACTORYOPS_DATABASE_URL", url}});
  EXPECT_EQ(after.output.find("pending"), std::string::npos) << after.output;
  EXPECT_NE(after.output.find("applied"), std::string::npos) << after.output;
}

}  // namespace
}  // namespace factoryops::testing
