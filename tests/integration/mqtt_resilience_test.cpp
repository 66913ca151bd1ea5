// What MQTT ingestion promises when parts fail (HLD §11): two telemetry replicas in the shared
// group store every reading once between them; a replica killed with SIGKILL under load loses
// no reading it acknowledged (its ingest log is replayed, the broker redelivers the rest); a
// broker restart and a metadata-database outage lose nothing either. Numbered readings are
// published with Eclipse Paho and counted through the telemetry API afterwards.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "auth_support.hpp"
#include "harness/mariadb.hpp"
#include "harness/services.hpp"
#include "harness/wait.hpp"

namespace factoryops::testing {
namespace {

// The value of mqtt_messages_total{kind="telemetry",result="processed"} on a server.
double processed_messages(FactoryopsServer& server) {
  auto body = server.get("/metrics").body;
  std::smatch m;
  static const std::regex line(
      R"re(mqtt_messages_total\{kind="telemetry",result="processed"\} ([0-9.e+]+))re");
  if (!std::regex_search(body, m, line)) return 0;
  return std::stod(m[1].str());
}

bool mqtt_up(FactoryopsServer& server) {
  auto r = server.get("/health");
  return r.body.find("\"mqtt\":\"ok\"") != std::string::npos;
}

// Numbered readings seq = first..first+count-1, one every 10 ms of event time from t0.
std::filesystem::path numbered_payloads(const TempDir& dir, const std::string& name, int first, int count,
                                        std::int64_t t0) {
  auto file = dir.path() / name;
  std::ofstream out(file);
  for (int i = first; i < first + count; ++i)
    out << R"({"ts":)" << t0 + i * 10 << R"(,"seq":)" << i << R"(,"power_kw":)" << (i % 100) * 0.5 << "}\n";
  return file;
}

std::string metric_lines(FactoryopsServer& server) {
  std::string out;
  std::istringstream lines(server.get("/metrics").body);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("mqtt_", 0) == 0 || line.rfind("telemetry_messages_total", 0) == 0) out += line + "\n";
  return out;
}

int first_missing(const std::set<int>& seen, int count) {
  for (int i = 0; i < count; ++i)
    if (seen.count(i) == 0) return i;
  return -1;
}

class MqttResilience : public ::testing::Test {
 protected:
  void start_stack(const std::string& backend, const std::string& label,
                   std::map<std::string, std::string> env) {
    for (const auto& [k, v] : broker_.serve_env()) env[k] = v;
    env_ = env;
    stack_ = std::make_unique<IdentityStack>(backend, label, env, "api,telemetry");
    std::string password = stack_->bootstrap("acme", "owner@acme.example");
    token_ = stack_->access_token("acme", "owner@acme.example", password);
    auto r = stack_->post("/api/v1/devices",
                          json_body({{"device_id", json::value("meter-1")}, {"name", json::value("Meter")}}),
                          token_);
    ASSERT_EQ(r.status, 201) << r.body;
    key_ = std::string(object_of(r.body).at("api_key").as_string());
    register_secret(key_);
    ASSERT_TRUE(eventually([&] { return mqtt_up(stack_->server()); })) << stack_->server().log();
  }

  std::unique_ptr<Process> publish(const std::filesystem::path& payloads, double rate = 0) {
    ProcessOptions o;
    o.argv = {"/usr/bin/python3",
              source_dir() + "/tests/tools/paho_publish.py",
              "127.0.0.1",
              std::to_string(broker_.port()),
              key_,
              "factories/acme/devices/meter-1/telemetry",
              payloads.string()};
    if (rate > 0) {
      o.argv.push_back("--rate");
      o.argv.push_back(std::to_string(rate));
    }
    o.log_file = log_path("paho-publish-" + payloads.filename().string() + ".log");
    return std::make_unique<Process>(o);
  }

  // Distinct seq values stored in [t0, t0 + span].
  std::set<int> stored_seq(std::int64_t t0, std::int64_t span) {
    auto r = stack_->server().get(
        "/api/v1/devices/meter-1/telemetry?params=seq&interval=raw&max_points=10000&from=" +
            std::to_string(t0) + "&to=" + std::to_string(t0 + span),
        bearer(token_));
    std::set<int> seen;
    if (r.status != 200) return seen;
    auto body = object_of(r.body);
    const auto& series = body.at("series").as_array();
    if (series.empty()) return seen;
    for (const auto& point : series.at(0).at("points").as_array())
      seen.insert(static_cast<int>(point.as_array().at(1).to_number<double>()));
    return seen;
  }

  MosquittoServer broker_;
  std::unique_ptr<IdentityStack> stack_;
  std::map<std::string, std::string> env_;
  std::string token_, key_;
  TempDir work_{"factoryops-mqtt-resilience"};
};

TEST_F(MqttResilience, TwoReplicasShareTheLoadAndAKilledReplicaLosesNothing) {
  InfluxServer influx("fo_mqtt_replicas");
  start_stack("mariadb", "mqtt-replicas", {{"FACTORYOPS_TSDB_URL", influx.url()}});
  // A second process with the telemetry role alone, on the same metadata DB and store.
  ServeOptions replica_options;
  replica_options.roles = "telemetry";
  replica_options.label = "mqtt-replica-2";
  replica_options.env = env_;
  replica_options.env["FACTORYOPS_DATABASE_URL"] = stack_->database_url();
  auto replica = std::make_unique<FactoryopsServer>(replica_options);
  ASSERT_TRUE(eventually([&] { return mqtt_up(*replica); })) << replica->log();
  EXPECT_EQ(replica->get("/api/v1/devices").status, 404) << "a telemetry-only process serves no API";

  // 1. Both replicas take part and each reading is processed exactly once between them.
  const std::int64_t t0 = now_ms() - 3'600'000;
  auto first = publish(numbered_payloads(work_, "first.txt", 0, 2000, t0));
  ASSERT_EQ(first->wait(std::chrono::seconds(60)), 0) << first->log();
  ASSERT_TRUE(eventually([&] { return stored_seq(t0, 100'000).size() == 2000; }))
      << stored_seq(t0, 100'000).size() << " of 2000 stored";
  double a = processed_messages(stack_->server());
  double b = processed_messages(*replica);
  EXPECT_GT(a, 0) << "the first replica took no message";
  EXPECT_GT(b, 0) << "the second replica took no message";
  EXPECT_EQ(a + b, 2000) << "a message was processed twice (or lost)";

  // 2. SIGKILL the second replica while readings flow, then start it again over its state.
  auto second = publish(numbered_payloads(work_, "second.txt", 2000, 3000, t0), 600);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto replica_dir = replica->data_dir();
  replica->process().signal(SIGKILL);
  replica->process().wait(std::chrono::seconds(5));
  ASSERT_EQ(second->wait(std::chrono::seconds(60)), 0) << second->log();
  replica_options.data_dir = replica_dir;
  replica_options.label = "mqtt-replica-2-restarted";
  auto restarted = std::make_unique<FactoryopsServer>(replica_options);
  ASSERT_TRUE(eventually([&] { return mqtt_up(*restarted); })) << restarted->log();
  ASSERT_TRUE(eventually([&] { return stored_seq(t0, 100'000).size() == 5000; }, std::chrono::seconds(60)))
      << stored_seq(t0, 100'000).size() << " of 5000 stored after the SIGKILL";
  auto seen = stored_seq(t0, 100'000);
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), 4999);
}

TEST_F(MqttResilience, BrokerRestartLosesNothing) {
  start_stack("sqlite", "mqtt-broker-restart", {});
  const std::int64_t t0 = now_ms() - 3'600'000;
  auto before = publish(numbered_payloads(work_, "before.txt", 0, 500, t0));
  ASSERT_EQ(before->wait(std::chrono::seconds(60)), 0) << before->log();
  broker_.stop();
  EXPECT_TRUE(eventually([&] { return !mqtt_up(stack_->server()); }, std::chrono::seconds(10)));
  broker_.start();
  ASSERT_TRUE(eventually([&] { return mqtt_up(stack_->server()); }, std::chrono::seconds(60)))
      << "the telemetry role did not reconnect\n"
      << stack_->server().log();
  auto after = publish(numbered_payloads(work_, "after.txt", 500, 500, t0));
  ASSERT_EQ(after->wait(std::chrono::seconds(60)), 0) << after->log();
  ASSERT_TRUE(eventually([&] { return stored_seq(t0, 100'000).size() == 1000; }))
      << stored_seq(t0, 100'000).size() << " of 1000 stored";
}

// A single replica subscribes without a share group: Mosquitto queues for its persistent session
// even while it reconnects after a broker restart (a shared group has no queue then; docs/mqtt.md).
TEST_F(MqttResilience, BrokerRestartWhileDevicesPublishLosesNothing) {
  start_stack("sqlite", "mqtt-broker-restart-load", {{"FACTORYOPS_MQTT_SHARE_GROUP", ""}});
  const std::int64_t t0 = now_ms() - 3'600'000;
  auto ctrl = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "/usr/bin/mosquitto_ctrl", "-p", std::to_string(broker_.port()), "-u",
        broker_.admin_username(),  "-P", broker_.admin_password(),       "dynsec"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  };
  ctrl({"createRole", "witness"});
  ctrl({"addRoleACL", "witness", "subscribePattern", "factories/#", "allow"});
  ctrl({"addRoleACL", "witness", "subscribePattern", "$share/w/factories/+/devices/+/telemetry", "allow"});
  ctrl({"createClient", "witness", "-p", "witness-pw"});
  ctrl({"addClientRole", "witness", "witness"});
  ProcessOptions w;
  w.argv = {"/usr/bin/mosquitto_sub",
            "-p",
            std::to_string(broker_.port()),
            "-u",
            "witness",
            "-P",
            "witness-pw",
            "-c",
            "-i",
            "witness-1",
            "-q",
            "1",
            "-t",
            "factories/+/devices/+/telemetry"};
  w.log_file = log_path("witness.log");
  Process witness(w);
  w.argv = {"/usr/bin/mosquitto_sub",
            "-p",
            std::to_string(broker_.port()),
            "-u",
            "witness",
            "-P",
            "witness-pw",
            "-c",
            "-i",
            "witness-2",
            "-q",
            "1",
            "-t",
            "$share/w/factories/+/devices/+/telemetry"};
  w.log_file = log_path("witness-shared.log");
  Process shared_witness(w);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // Paho keeps publishing through the restart: it reconnects and resends what was not acknowledged.
  auto flow = publish(numbered_payloads(work_, "flow.txt", 0, 3000, t0), 300);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  broker_.stop();
  broker_.start();
  ASSERT_EQ(flow->wait(std::chrono::seconds(90)), 0) << flow->log();
  ASSERT_TRUE(eventually([&] { return stored_seq(t0, 100'000).size() == 3000; }, std::chrono::seconds(60)))
      << stored_seq(t0, 100'000).size() << " of 3000 stored across the broker restart; first missing: "
      << first_missing(stored_seq(t0, 100'000), 3000) << "\n"
      << metric_lines(stack_->server());
}

TEST_F(MqttResilience, MetadataDatabaseOutageLosesNothingAndDiscoveryCatchesUp) {
  auto mariadb = MariaDbServer::start();
  start_stack("mariadb", "mqtt-db-outage",
              {{"FACTORYOPS_DATABASE_URL", mariadb->create_database("fo_mqtt_outage")}});
  const std::int64_t t0 = now_ms() - 3'600'000;
  auto warm = publish(numbered_payloads(work_, "warm.txt", 0, 10, t0));
  ASSERT_EQ(warm->wait(std::chrono::seconds(60)), 0) << warm->log();
  ASSERT_TRUE(eventually([&] { return stored_seq(t0, 100'000).size() == 10; }));

  mariadb->stop();
  // Readings with a key never seen before, while the metadata DB is down.
  auto file = work_.path() / "outage.txt";
  {
    std::ofstream out(file);
    for (int i = 10; i < 510; ++i)
      out << R"({"ts":)" << t0 + i * 10 << R"(,"seq":)" << i << R"(,"during_outage":1})"
          << "\n";
  }
  auto during = publish(file);
  ASSERT_EQ(during->wait(std::chrono::seconds(60)), 0) << during->log();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  mariadb->restart();
  ASSERT_TRUE(eventually([&] { return stored_seq(t0, 100'000).size() == 510; }, std::chrono::seconds(60)))
      << stored_seq(t0, 100'000).size() << " of 510 stored";
  EXPECT_TRUE(eventually([&] {
    auto r = stack_->server().get("/api/v1/devices/meter-1/parameters", bearer(token_));
    return r.body.find("during_outage") != std::string::npos;
  })) << "discovery did not catch up";
}

}  // namespace
}  // namespace factoryops::testing
