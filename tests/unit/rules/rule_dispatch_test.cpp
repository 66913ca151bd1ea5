// The dispatcher between ingestion and the rule engine: only what enabled rules read is
// forwarded, one job per factory carries it, factories without rules cost nothing, and the
// payload decodes back to the same readings.
#include "rules/rule_dispatch.hpp"

#include <gtest/gtest.h>

#include "db/database.hpp"
#include "db/factory_repository.hpp"
#include "db/migrations.hpp"
#include "queue/sql_queue.hpp"

namespace factoryops::rules {
namespace {

tsdb::DeviceBatch batch(const std::string& factory, const std::string& device, std::int64_t ts,
                        std::vector<tsdb::Field> fields) {
  return tsdb::DeviceBatch{
      core::FactoryId(factory), core::DeviceId(device), {tsdb::Reading{ts, std::move(fields)}}};
}

class RuleDispatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = db::Database::open("sqlite::memory:");
    db::migrate(*database_);
    db::FactoryRepository factories(*database_);
    factories.create({core::FactoryId("acme"), "Acme"});
    factories.create({core::FactoryId("quiet"), "Quiet"});
    queue_ = std::make_unique<queue::SqlQueue>(*database_, queue::QueueOptions{});
  }

  void add_rule(const std::string& factory, const std::string& definition, bool enabled = true) {
    auto conn = database_->acquire();
    conn->execute(
        "INSERT INTO rules (factory_id, name, severity, is_enabled, definition, created_at, updated_at) "
        "VALUES (?, ?, 'major', ?, ?, 1, 1)",
        {factory, "rule " + std::to_string(++rules_), enabled, definition});
  }

  std::vector<queue::Job> drain() {
    std::vector<queue::Job> jobs;
    while (auto job = queue_->claim(queue::kRuleEngineQueue, "test")) {
      queue_->ack(*job);
      jobs.push_back(std::move(*job));
    }
    return jobs;
  }

  std::unique_ptr<db::Database> database_;
  std::unique_ptr<queue::SqlQueue> queue_;
  int rules_ = 0;
};

TEST_F(RuleDispatchTest, ForwardsOnlyWhatEnabledRulesRead) {
  add_rule(
      "acme",
      R"({"name":"hot","severity":"major","conditions":[{"kind":"threshold","parameter":"power_kw","op":">","threshold":75}]})");
  add_rule(
      "acme",
      R"({"name":"off","severity":"major","conditions":[{"kind":"threshold","parameter":"voltage","op":"<","threshold":200}]})",
      false);
  {
    RuleDispatcher dispatcher(*queue_, database_.get());
    dispatcher.add(batch("acme", "m1", 1000, {{"power_kw", 80}, {"voltage", 230}, {"temp_c", 40}}));
    dispatcher.add(batch("acme", "m2", 2000, {{"temp_c", 41}}));     // nothing a rule reads
    dispatcher.add(batch("quiet", "m1", 3000, {{"power_kw", 99}}));  // a factory without rules
    dispatcher.stop();
  }
  auto jobs = drain();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].factory_id, "acme");
  EXPECT_EQ(jobs[0].task, kEvaluateTask);
  EXPECT_FALSE(jobs[0].request_id.empty());
  auto decoded = decode_batches(core::FactoryId("acme"), jobs[0].payload);
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0].device.str(), "m1");
  ASSERT_EQ(decoded[0].readings.size(), 1u);
  EXPECT_EQ(decoded[0].readings[0].ts_ms, 1000);
  ASSERT_EQ(decoded[0].readings[0].fields.size(), 1u);
  EXPECT_EQ(decoded[0].readings[0].fields[0].key, "power_kw");
  EXPECT_EQ(decoded[0].readings[0].fields[0].value, 80);
}

TEST_F(RuleDispatchTest, ARuleAddedLaterIsTakenIntoAccountOnReload) {
  RuleDispatcher dispatcher(*queue_, database_.get());
  dispatcher.add(batch("quiet", "m1", 1000, {{"power_kw", 99}}));
  add_rule("quiet", R"({"name":"silent","severity":"minor","conditions":[{"kind":"no_data","minutes":5}]})");
  dispatcher.reload_interest();
  // A machine-wide no_data rule wants every reading, even one carrying nothing it reads.
  dispatcher.add(batch("quiet", "m1", 2000, {{"temp_c", 20}}));
  dispatcher.stop();
  auto jobs = drain();
  ASSERT_EQ(jobs.size(), 1u);
  auto decoded = decode_batches(core::FactoryId("quiet"), jobs[0].payload);
  ASSERT_EQ(decoded.size(), 1u);
  ASSERT_EQ(decoded[0].readings.size(), 1u);
  EXPECT_EQ(decoded[0].readings[0].ts_ms, 2000);
  EXPECT_TRUE(decoded[0].readings[0].fields.empty());
}

TEST(RuleDispatchPayload, MalformedPayloadsAreInvalid) {
  const core::FactoryId acme("acme");
  EXPECT_THROW(decode_batches(acme, "not json"), core::Invalid);
  EXPECT_THROW(decode_batches(acme, R"({"devices":{}})"), core::Invalid);
  EXPECT_THROW(decode_batches(acme, R"({"devices":[{"id":"Bad Id!","readings":[]}]})"), core::Invalid);
  EXPECT_THROW(decode_batches(acme, R"({"devices":[{"id":"m1","readings":[[1.5,{}]]}]})"), core::Invalid);
  auto round = decode_batches(acme, encode_batches({batch("acme", "m1", 5, {{"a.b", 1.25}})}));
  ASSERT_EQ(round.size(), 1u);
  EXPECT_EQ(round[0].readings[0].fields[0].key, "a.b");
  EXPECT_EQ(round[0].readings[0].fields[0].value, 1.25);
}

}  // namespace
}  // namespace factoryops::rules
