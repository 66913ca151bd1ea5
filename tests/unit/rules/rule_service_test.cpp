// RuleService's replay of the last 24 hours against an in-memory metadata store and a store
// double: which machines and parameters it reads, over which range, and that every bound it
// applies shows as `truncated`. One pooled connection, so a call that borrowed a second
// connection while holding the first would stall here.
#include "rules/rule_service.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdio>
#include <string>

#include "alerts/alert_service.hpp"
#include "core/errors.hpp"
#include "db/database.hpp"
#include "db/factory_repository.hpp"
#include "db/migrations.hpp"
#include "devices/device_repository.hpp"
#include "unit/rules/rule_test_support.hpp"
#include "unit/tsdb/telemetry_query_store_double.hpp"

namespace factoryops::rules {
namespace {
namespace json = boost::json;
using testing::kHour;
using testing::kMinute;
using testing::kT0;

auth::FactoryContext owner() {
  return auth::FactoryContext{core::FactoryId("acme"), 1,  "owner@example.com",
                              auth::Role::super_admin, {}, "req-1"};
}

json::value rule_body(const std::string& scope, const std::string& condition = {}) {
  return json::parse(R"({"name":"Overload","severity":"major","scope":)" + scope + R"(,"conditions":[)" +
                     (condition.empty()
                          ? R"({"kind":"threshold","parameter":"power_kw","op":">","threshold":75})"
                          : condition) +
                     "]}");
}

class RuleServiceReplay : public ::testing::Test {
 protected:
  void SetUp() override {
    db::migrate(*db_);
    db::FactoryRepository(*db_).create({core::FactoryId("acme"), "Acme"});
    db::FactoryRepository(*db_).create({core::FactoryId("rival"), "Rival"});
  }

  void add_machine(const std::string& factory, const std::string& id, const std::string& type,
                   const std::string& line = "l1") {
    devices::Device device{core::FactoryId(factory), core::DeviceId(id), "Machine " + id};
    device.type = type;
    device.line = line;
    device.api_key_prefix = id.substr(0, 8);
    auto conn = db_->acquire();
    devices::DeviceRepository::insert(core::FactoryId(factory), *conn, device, "hash-" + factory + "-" + id);
  }

  std::unique_ptr<db::Database> db_ = db::Database::open("sqlite::memory:");
  tsdb::testing::StoreDouble store_;
  alerts::AlertService alerts_{*db_};
  RuleService service_{*db_, store_, &alerts_, [] { return kT0; }};
};

TEST_F(RuleServiceReplay, ReadsTheScopesMachinesOverTheLastDayOnly) {
  add_machine("acme", "comp-1", "compressor");
  add_machine("acme", "pump-1", "pump");
  add_machine("rival", "comp-9", "compressor");
  // Above 75 for 10 minutes (values 0..9 are the index; shift them over the threshold).
  for (int i = 0; i < 10; ++i) {
    std::vector<tsdb::DeviceBatch> batch{{core::FactoryId("acme"),
                                          core::DeviceId("comp-1"),
                                          {{kT0 - 2 * kHour + i * kMinute, {{"power_kw", 80.0 + i}}}}}};
    store_.write(batch);
  }
  // Older than the day, and in another factory: never replayed.
  store_.fill("acme", "comp-1", "power_kw", kT0 - 25 * kHour, kMinute, 30);
  store_.fill("rival", "comp-9", "power_kw", kT0 - 2 * kHour, kMinute, 30);

  auto report = service_.test_draft(owner(), rule_body(R"({"kind":"type","device_type":"compressor"})"));
  EXPECT_EQ(report.from_ms, kT0 - 24 * kHour);
  EXPECT_EQ(report.to_ms, kT0);
  EXPECT_EQ(report.machines, 1u);
  EXPECT_FALSE(report.truncated);
  EXPECT_EQ(report.result.readings, 10u);
  EXPECT_EQ(report.result.fired, 1u);
  ASSERT_EQ(store_.raw_queries.size(), 1u);
  EXPECT_EQ(store_.raw_queries[0].device.str(), "comp-1");
  EXPECT_EQ(store_.raw_queries[0].metrics, std::vector<std::string>{"power_kw"});
  EXPECT_EQ(store_.raw_queries[0].from_ms, kT0 - 24 * kHour);
  EXPECT_EQ(store_.raw_queries[0].to_ms, kT0);
}

TEST_F(RuleServiceReplay, ListedMachinesOfOtherFactoriesOrUnknownAreSkipped) {
  add_machine("acme", "comp-1", "compressor");
  add_machine("rival", "comp-9", "compressor");
  auto report = service_.test_draft(
      owner(), rule_body(R"({"kind":"devices","device_ids":["comp-1","comp-9","ghost"]})"));
  EXPECT_EQ(report.machines, 1u);
  ASSERT_EQ(store_.raw_queries.size(), 1u);
  EXPECT_EQ(store_.raw_queries[0].device.str(), "comp-1");
  EXPECT_EQ(store_.raw_queries[0].factory.str(), "acme");
}

TEST_F(RuleServiceReplay, AtMostAHundredMachinesAndTheAnswerSaysSo) {
  for (int i = 0; i <= static_cast<int>(kMaxTestMachines); ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "m%03d", i);
    add_machine("acme", id, "compressor");
  }
  auto report = service_.test_draft(owner(), rule_body(R"({"kind":"all"})"));
  EXPECT_EQ(report.machines, kMaxTestMachines);
  EXPECT_TRUE(report.truncated);
  EXPECT_EQ(store_.raw_queries.size(), kMaxTestMachines);
}

TEST_F(RuleServiceReplay, AtMostTwentyThousandPointsPerParameterAndTheAnswerSaysSo) {
  add_machine("acme", "comp-1", "compressor");
  store_.fill("acme", "comp-1", "power_kw", kT0 - 23 * kHour, 1000,
              static_cast<int>(kMaxTestPointsPerSeries) + 5);
  auto report = service_.test_draft(owner(), rule_body(R"({"kind":"all"})"));
  EXPECT_TRUE(report.truncated);
  EXPECT_EQ(report.result.readings, kMaxTestPointsPerSeries);

  store_.raw_queries.clear();
  add_machine("acme", "comp-2", "compressor");
  store_.fill("acme", "comp-2", "power_kw", kT0 - 23 * kHour, 1000, 100);
  auto listed = service_.test_draft(owner(), rule_body(R"({"kind":"devices","device_ids":["comp-2"]})"));
  EXPECT_FALSE(listed.truncated);
  EXPECT_EQ(listed.result.readings, 100u);
}

TEST_F(RuleServiceReplay, AMachineWideSilenceReadsEveryKnownParameter) {
  add_machine("acme", "comp-1", "compressor");
  {
    auto conn = db_->acquire();
    for (const char* key : {"power_kw", "voltage"}) {
      conn->execute(
          "INSERT INTO device_parameters (factory_id, device_id, parameter_key, first_seen_at, last_seen_at) "
          "VALUES (?, ?, ?, ?, ?)",
          {"acme", "comp-1", key, std::int64_t{1}, std::int64_t{1}});
    }
  }
  store_.fill("acme", "comp-1", "voltage", kT0 - 3 * kHour, kMinute, 10);
  auto report =
      service_.test_draft(owner(), rule_body(R"({"kind":"all"})", R"({"kind":"no_data","minutes":30})"));
  ASSERT_EQ(store_.raw_queries.size(), 1u);
  EXPECT_EQ(store_.raw_queries[0].metrics, (std::vector<std::string>{"power_kw", "voltage"}));
  // Silent for 30 minutes after the last reading at least.
  EXPECT_GE(report.result.fired, 1u);
}

TEST_F(RuleServiceReplay, ADraftIsValidatedAndASavedRuleOfAnotherFactoryIsNotFound) {
  EXPECT_THROW(
      service_.test_draft(owner(), json::parse(R"({"name":"x","severity":"major","conditions":[]})")),
      core::Invalid);
  auto saved = service_.create(owner(), rule_body(R"({"kind":"all"})"));
  auto rival = owner();
  rival.factory_id = core::FactoryId("rival");
  EXPECT_THROW(service_.test_saved(rival, saved.rule.id), core::NotFound);
  EXPECT_EQ(service_.test_saved(owner(), saved.rule.id).machines, 0u);
}

TEST_F(RuleServiceReplay, DisablingResolvesTheRulesAlertsWithOneConnection) {
  auto saved = service_.create(owner(), rule_body(R"({"kind":"all"})"));
  alerts::Trigger trigger;
  trigger.rule_id = saved.rule.id;
  trigger.rule_name = "Overload";
  trigger.device_id = "comp-1";
  trigger.started_at_ms = kT0;
  ASSERT_EQ(alerts_.raise(core::FactoryId("acme"), trigger).result, alerts::RaiseResult::opened);
  service_.update(owner(), saved.rule.id, json::parse(R"({"enabled":false})"));
  EXPECT_FALSE(alerts_.find_unresolved(core::FactoryId("acme"), saved.rule.id, "comp-1").has_value());
}

}  // namespace
}  // namespace factoryops::rules
