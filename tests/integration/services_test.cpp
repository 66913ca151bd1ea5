// The harness's real servers start, answer their own protocol, and are gone afterwards.
#include <gtest/gtest.h>

#include <csignal>

#include "harness/http_client.hpp"
#include "harness/services.hpp"

namespace factoryops::testing {
namespace {

TEST(HarnessServicesTest, RedisAnswersPingAndStops) {
  int pid = 0;
  {
    RedisServer redis;
    EXPECT_EQ(redis.command("PING"), "+PONG");
    EXPECT_EQ(redis.command("SET k v"), "+OK");
    pid = redis.process().pid();
  }
  EXPECT_NE(::kill(pid, 0), 0) << "redis-server still running after the harness stopped it";
}

TEST(HarnessServicesTest, MosquittoAcceptsItsAdminAndRefusesAnonymousClients) {
  MosquittoServer broker;
  EXPECT_EQ(
      broker.connect_return_code("factoryops-test-client", broker.admin_username(), broker.admin_password()),
      0);
  EXPECT_EQ(broker.connect_return_code("anonymous-client"), 5) << "anonymous clients must be refused";
  EXPECT_EQ(broker.connect_return_code("wrong-password", broker.admin_username(), "not-the-password"), 5);
}

TEST(HarnessServicesTest, InfluxDbAcceptsWritesAndQueries) {
  InfluxServer influx("harness_check");
  auto write = http_request(influx.port(), "POST", "/write?db=harness_check&precision=ms", {},
                            "telemetry,factory_id=f1,device_id=d1 power_kw=12.5 1700000000000\n");
  EXPECT_EQ(write.status, 204) << write.body;
  auto query = http_get(influx.port(), "/query?db=harness_check&q=SELECT+power_kw+FROM+telemetry");
  EXPECT_EQ(query.status, 200);
  EXPECT_NE(query.body.find("12.5"), std::string::npos) << query.body;
}

}  // namespace
}  // namespace factoryops::testing
