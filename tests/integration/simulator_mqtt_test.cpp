// `factoryops simulate --transport mqtt` against Mosquitto with dynamic security and a serve with
// the api and telemetry roles: the simulator provisions its machines on the broker, each machine
// connects with its own key, says online and offline on its status topic, and every reading the
// broker acknowledged is stored exactly once (checked with the per-machine `seq` metric).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <regex>
#include <thread>

#include "auth_support.hpp"
#include "harness/services.hpp"
#include "harness/wait.hpp"

extern char** environ;

namespace factoryops::testing {
namespace {

// The simulator's last line over MQTT: "simulate: done in 4.0 s: N messages, N readings, N values,
// N readings/s, N values/s, N refused, N errors".
struct Summary {
  bool found = false;
  std::int64_t messages = 0, readings = 0, refused = 0, errors = 0;
};

Summary summary_of(const std::string& output) {
  static const std::regex line(
      R"(done in [0-9.]+ s: ([0-9]+) messages, ([0-9]+) readings, [0-9]+ values, [0-9]+ readings/s, )"
      R"([0-9]+ values/s, ([0-9]+) refused, ([0-9]+) errors)");
  std::smatch m;
  Summary s;
  if (!std::regex_search(output, m, line)) return s;
  s.found = true;
  s.messages = std::stoll(m[1]);
  s.readings = std::stoll(m[2]);
  s.refused = std::stoll(m[3]);
  s.errors = std::stoll(m[4]);
  return s;
}

std::string machines(int count) {
  std::string out;
  for (int i = 1; i <= count; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "sim-%03d", i);
    out += (out.empty() ? "" : ",") + std::string(id);
  }
  return out;
}

struct Stored {
  std::int64_t count = 0;
  std::int64_t min = -1;
  std::int64_t max = -1;
};

class SimulatorMqttTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new MosquittoServer();
    stack_ = new IdentityStack("sqlite", "simulator-mqtt", broker_->serve_env(), "api,telemetry");
    for (const char* factory : {"paced", "load", "failing"}) {
      std::string email = std::string("owner@") + factory + ".example";
      tokens_[factory] = stack_->access_token(factory, email, stack_->bootstrap(factory, email));
    }
    // The telemetry role subscribed and the broker's credentials in place: from here on every
    // device key the simulator provisions can connect and every reading has a subscriber.
    ASSERT_TRUE(eventually([] {
      auto health = object_of(stack_->server().get("/health").body);
      return health.contains("dependencies") && health.at("dependencies").at("mqtt").as_string() == "ok" &&
             stack_->server().log().find("MQTT broker credentials ready") != std::string::npos;
    })) << stack_->server().log();
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
    delete broker_;
    broker_ = nullptr;
  }

  // What `factoryops simulate` needs to reach the same metadata store and the broker.
  static std::map<std::string, std::string> cli_env() {
    auto env = broker_->serve_env();
    env["FACTORYOPS_DATA_DIR"] = stack_->server().data_dir().string();
    return env;
  }

  static std::vector<std::string> simulate(const std::string& factory, std::vector<std::string> options) {
    std::vector<std::string> args = {"simulate", "--factory", factory, "--transport", "mqtt"};
    args.insert(args.end(), options.begin(), options.end());
    return args;
  }

  // The simulator in the background, as `make up` runs it.
  static std::unique_ptr<Process> start_simulator(const std::vector<std::string>& args) {
    ProcessOptions o;
    o.argv = {factoryops_binary()};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv(*e);
      if (kv.rfind("FACTORYOPS_", 0) == 0) o.unset_env.push_back(kv.substr(0, kv.find('=')));
    }
    o.env = cli_env();
    o.log_file = log_path("simulate-mqtt");
    return std::make_unique<Process>(std::move(o));
  }

  // Count, smallest and largest `seq` stored per machine over the last 31 days.
  static std::map<std::string, Stored> stored(const std::string& factory, int count) {
    std::map<std::string, Stored> out;
    const std::int64_t to = now_ms() + 60'000;
    const std::int64_t from = to - 31 * 86'400'000LL;
    for (const char* agg : {"count", "min", "max"}) {
      auto r = stack_->server().get("/api/v1/telemetry?param=seq&interval=1d&agg=" + std::string(agg) +
                                        "&devices=" + machines(count) + "&from=" + std::to_string(from) +
                                        "&to=" + std::to_string(to),
                                    bearer(tokens_[factory]));
      EXPECT_EQ(r.status, 200) << r.body;
      auto body = object_of(r.body);
      if (!body.contains("series")) return {};
      for (const auto& series : body.at("series").as_array()) {
        auto& s = out[std::string(series.at("device_id").as_string())];
        for (const auto& point : series.at("points").as_array()) {
          auto value = static_cast<std::int64_t>(point.at(1).to_number<double>());
          if (std::string(agg) == "count") s.count += value;
          if (std::string(agg) == "min") s.min = s.min < 0 ? value : std::min(s.min, value);
          if (std::string(agg) == "max") s.max = std::max(s.max, value);
        }
      }
    }
    return out;
  }

  static std::int64_t total(const std::map<std::string, Stored>& per_machine) {
    std::int64_t sum = 0;
    for (const auto& [id, s] : per_machine) sum += s.count;
    return sum;
  }

  static std::string status_of(const std::string& factory, const std::string& device) {
    auto r = stack_->server().get("/api/v1/devices/" + device, bearer(tokens_[factory]));
    auto body = object_of(r.body);
    return body.contains("status") ? std::string(body.at("status").as_string()) : "(" + r.body + ")";
  }

  // Every machine stored 0, 1, …, n-1: nothing lost, nothing twice.
  static void expect_gapless(const std::map<std::string, Stored>& per_machine, int machines_count) {
    EXPECT_EQ(per_machine.size(), static_cast<std::size_t>(machines_count));
    for (const auto& [id, s] : per_machine) {
      EXPECT_GT(s.count, 0) << id;
      EXPECT_EQ(s.min, 0) << id;
      EXPECT_EQ(s.max + 1, s.count) << id << ": seq values stored are not 0…n-1 once each";
    }
  }

  static MosquittoServer* broker_;
  static IdentityStack* stack_;
  static std::map<std::string, std::string> tokens_;
};

MosquittoServer* SimulatorMqttTest::broker_ = nullptr;
IdentityStack* SimulatorMqttTest::stack_ = nullptr;
std::map<std::string, std::string> SimulatorMqttTest::tokens_;

TEST_F(SimulatorMqttTest, MachinesAreOnlineWhileItRunsOfflineAfterAndEveryAcknowledgedReadingIsStored) {
  auto simulator = start_simulator(simulate("paced", {"--devices", "3", "--rate", "20", "--sequence"}));
  // Each machine connected with its own key (provisioned on the broker) and said "online".
  EXPECT_TRUE(eventually([] {
    for (const char* id : {"sim-001", "sim-002", "sim-003"})
      if (status_of("paced", id) != "online") return false;
    return true;
  })) << simulator->log();
  EXPECT_TRUE(eventually([] { return total(stored("paced", 3)) >= 60; })) << simulator->log();
  // SIGTERM, as `make up` stops it: the machines finish what is in flight and say goodbye.
  simulator->signal(SIGTERM);
  auto status = simulator->wait(std::chrono::seconds(20));
  ASSERT_TRUE(status.has_value()) << simulator->log();
  EXPECT_EQ(*status, 0) << simulator->log();
  Summary summary = summary_of(simulator->log());
  ASSERT_TRUE(summary.found) << simulator->log();
  EXPECT_EQ(summary.errors, 0) << simulator->log();
  EXPECT_EQ(summary.refused, 0) << simulator->log();
  EXPECT_EQ(summary.messages, summary.readings);  // one reading a message without --batch
  ASSERT_GE(summary.readings, 60);

  EXPECT_TRUE(eventually([&] { return total(stored("paced", 3)) == summary.readings; }))
      << total(stored("paced", 3)) << " stored of " << summary.readings << " acknowledged";
  expect_gapless(stored("paced", 3), 3);
  for (const char* id : {"sim-001", "sim-002", "sim-003"}) {
    EXPECT_TRUE(eventually([&] { return status_of("paced", id) == "offline"; })) << id;
  }
  // The discovery saw the model's metrics and the sequence.
  auto parameters = stack_->server().get("/api/v1/devices/sim-002/parameters", bearer(tokens_["paced"]));
  EXPECT_NE(parameters.body.find("energy_kwh"), std::string::npos) << parameters.body;
  EXPECT_NE(parameters.body.find("\"seq\""), std::string::npos) << parameters.body;
}

TEST_F(SimulatorMqttTest, LoadRunPublishesAsFastAsTheBrokerAcknowledgesAndLosesNothing) {
  auto r = run_factoryops(simulate("load", {"--devices", "20", "--rate", "0", "--batch", "5", "--inflight",
                                            "4", "--duration", "3", "--sequence"}),
                          cli_env());
  ASSERT_EQ(r.status, 0) << r.output;
  Summary summary = summary_of(r.output);
  ASSERT_TRUE(summary.found) << r.output;
  EXPECT_EQ(summary.errors, 0) << r.output;
  EXPECT_EQ(summary.refused, 0) << r.output;
  EXPECT_EQ(summary.readings, summary.messages * 5) << r.output;
  // Far more than a paced run would send: 20 machines at 1 Hz would manage 60 readings.
  EXPECT_GT(summary.readings, 2000) << r.output;
  EXPECT_TRUE(
      eventually([&] { return total(stored("load", 20)) == summary.readings; }, std::chrono::seconds(90)))
      << total(stored("load", 20)) << " stored of " << summary.readings << " acknowledged";
  expect_gapless(stored("load", 20), 20);

  // A second run finds the machines, gives them new keys (granted on the broker) and goes on.
  auto again =
      run_factoryops(simulate("load", {"--devices", "2", "--rate", "10", "--duration", "1"}), cli_env());
  EXPECT_EQ(again.status, 0) << again.output;
  Summary second = summary_of(again.output);
  EXPECT_TRUE(second.found) << again.output;
  EXPECT_EQ(second.errors, 0) << again.output;
  EXPECT_GT(second.readings, 0) << again.output;
}

TEST_F(SimulatorMqttTest, BadOptionsAndAnUnreachableBrokerAreReportedClearly) {
  for (const auto& [options, named] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--qos", "2"}, "--qos"},
           {{"--url", "http://127.0.0.1:8000"}, "--url"},
           {{"--connections", "4"}, "--connections"},
           {{"--inflight", "5000"}, "--inflight"}}) {
    auto refused = run_factoryops(simulate("failing", options), cli_env());
    EXPECT_EQ(refused.status, 2) << refused.output;
    EXPECT_NE(refused.output.find(named), std::string::npos) << refused.output;
  }

  // Provisioning needs the broker's admin credential: without the right one nothing is changed.
  auto env = cli_env();
  env["FACTORYOPS_MQTT_ADMIN_PASSWORD"] = "not-the-admin-password";
  auto unprovisioned = run_factoryops(simulate("failing", {"--devices", "1", "--duration", "1"}), env);
  EXPECT_EQ(unprovisioned.status, 1) << unprovisioned.output;
  EXPECT_NE(unprovisioned.output.find("admin credential"), std::string::npos) << unprovisioned.output;
  auto device = stack_->server().get("/api/v1/devices/sim-001", bearer(tokens_["failing"]));
  EXPECT_EQ(device.status, 404) << "a machine was registered with a key the broker does not know";

  // Nothing listens there: every connection fails, the run says why and exits 1.
  auto nowhere = run_factoryops(simulate("failing", {"--devices", "2", "--duration", "2", "--url",
                                                     "mqtt://127.0.0.1:" + std::to_string(free_port())}),
                                cli_env());
  EXPECT_EQ(nowhere.status, 1) << nowhere.output;
  EXPECT_NE(nowhere.output.find("cannot connect"), std::string::npos) << nowhere.output;
}

}  // namespace
}  // namespace factoryops::testing
