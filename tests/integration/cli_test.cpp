// The factoryops command line: exit codes and messages a user or an init system relies on.
#include <gtest/gtest.h>

#include <fstream>

#include "harness/factoryops.hpp"

namespace factoryops::testing {
namespace {

TEST(CliTest, VersionPrintsTheVersion) {
  auto r = run_factoryops({"version"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("factoryops "), std::string::npos) << r.output;
}

TEST(CliTest, HelpListsTheCommands) {
  auto r = run_factoryops({"--help"});
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* cmd : {"serve", "migrate", "admin", "version"}) {
    EXPECT_NE(r.output.find(cmd), std::string::npos) << cmd;
  }
}

TEST(CliTest, UnknownCommandIsAUsageError) {
  auto r = run_factoryops({"frobnicate"});
  EXPECT_EQ(r.status, 2) << r.output;
}

TEST(CliTest, UnknownEnvironmentKeyExitsTwoAndNamesIt) {
  auto r = run_factoryops({"serve"}, {{"FACTORYOPS_HTTP_PROT", "8000"}});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("FACTORYOPS_HTTP_PROT"), std::string::npos) << r.output;
}

TEST(CliTest, BadValueExitsTwoAndNamesTheKey) {
  auto r = run_factoryops({"serve"}, {{"FACTORYOPS_HTTP_PORT", "not-a-port"}});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("FACTORYOPS_HTTP_PORT"), std::string::npos) << r.output;
}

TEST(CliTest, UnknownKeyInConfigFileExitsTwoAndNamesIt) {
  TempDir dir;
  auto file = dir.path() / "factoryops.toml";
  std::ofstream(file) << "http_port = 8000\nlisten_port = 9\n";
  auto r = run_factoryops({"--config", file.string(), "serve"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("listen_port"), std::string::npos) << r.output;
}

TEST(CliTest, ProductionRefusesTheDefaultSecret) {
  auto r = run_factoryops({"serve"}, {{"FACTORYOPS_ENV", "production"}});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("FACTORYOPS_JWT_SECRET"), std::string::npos) << r.output;
}

TEST(CliTest, UnknownRoleIsRefused) {
  auto r = run_factoryops({"serve", "--roles=api,dishwasher"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("dishwasher"), std::string::npos) << r.output;
}

TEST(CliTest, ShowConfigHidesSecrets) {
  std::string password = make_secret(24);
  std::string jwt = make_secret(40);
  auto r = run_factoryops({"admin", "show-config"},
                          {{"FACTORYOPS_DATABASE_URL", "mysql://fo:" + password + "@db.example:3306/fo"},
                           {"FACTORYOPS_JWT_SECRET", jwt}});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("database_url"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("db.example"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(password), std::string::npos);
  EXPECT_EQ(r.output.find(jwt), std::string::npos);
}

TEST(CliTest, MigrateCreatesTheSchemaAndIsIdempotent) {
  TempDir dir;
  std::map<std::string, std::string> env = {{"FACTORYOPS_DATA_DIR", dir.path().string()}};
  auto first = run_factoryops({"migrate"}, env);
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "factoryops.db"));
  auto status = run_factoryops({"migrate", "--status"}, env);
  ASSERT_EQ(status.status, 0) << status.output;
  EXPECT_NE(status.output.find("0001"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("applied"), std::string::npos) << status.output;
  auto second = run_factoryops({"migrate"}, env);
  EXPECT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find("up to date"), std::string::npos) << second.output;
}

TEST(CliTest, MigrateReportsAnUnreachableDatabase) {
  int port = free_port();  // nothing listens here
  std::string password = make_secret(20);
  auto r = run_factoryops(
      {"migrate"},
      {{"FACTORYOPS_DATABASE_URL", "mysql://fo:" + password + "@127.0.0.1:" + std::to_string(port) + "/fo"}});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(r.output.find(password), std::string::npos) << r.output;
}

}  // namespace
}  // namespace factoryops::testing
