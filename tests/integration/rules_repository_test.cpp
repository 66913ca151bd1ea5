// The rules' SQL and service on both engines: the same calls against SQLite and a real MariaDB,
// where the unique key, collation, UTF-8 storage and affected-row counts differ.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "alerts/alert_service.hpp"
#include "auth/context.hpp"
#include "core/errors.hpp"
#include "db/database.hpp"
#include "db/factory_repository.hpp"
#include "db/migrations.hpp"
#include "harness/mariadb.hpp"
#include "harness/process.hpp"
#include "rules/rule_service.hpp"
#include "tsdb/store.hpp"

namespace factoryops::testing {
namespace {
namespace json = boost::json;

auth::FactoryContext owner_of(std::string_view factory) {
  return auth::FactoryContext{core::FactoryId(factory), 1,  "owner@example.com",
                              auth::Role::super_admin,  {}, "req-rules"};
}

rules::Rule threshold_rule(std::string name, double threshold) {
  rules::Rule rule;
  rule.name = std::move(name);
  rule.severity = rules::Severity::major;
  rules::Condition condition;
  condition.parameter = "power_kw";
  condition.threshold = threshold;
  rule.conditions.push_back(condition);
  return rule;
}

json::value body_of(const rules::Rule& rule) {
  return rules::rule_to_json(rule);
}

class RulesOnBothEngines : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static int counter = 0;
    std::string url = GetParam() == "mariadb"
                          ? MariaDbServer::shared().create_database("fo_rules_" + std::to_string(++counter))
                          : "sqlite:///" + (dir_.path() / "fo.db").string();
    db_ = db::Database::open(url);
    db::migrate(*db_);
    db::FactoryRepository factories(*db_);
    factories.create({core::FactoryId("acme"), "Acme Metals", "Europe/Berlin"});
    factories.create({core::FactoryId("rival"), "Rival Plastics"});
    store_ = tsdb::open_embedded_store({dir_.path() / "tsdb", [](const core::FactoryId&) { return "UTC"; }});
    alerts_ = std::make_unique<alerts::AlertService>(*db_);
    service_ = std::make_unique<rules::RuleService>(*db_, *store_, alerts_.get());
    repository_ = std::make_unique<rules::RuleRepository>(*db_);
  }

  std::int64_t insert(const std::string& factory, const rules::Rule& rule, std::int64_t at_ms = 1000) {
    rules::StoredRule stored{core::FactoryId(factory), rule, 1, std::int64_t{7}, at_ms, at_ms};
    auto conn = db_->acquire();
    return rules::RuleRepository::insert(core::FactoryId(factory), *conn, stored);
  }

  std::vector<std::string> audit_actions(const std::string& factory) {
    auto conn = db_->acquire();
    std::vector<std::string> out;
    for (const auto& row : conn->query(
             "SELECT action FROM audit_log WHERE factory_id = ? AND resource_type = 'rule' ORDER BY id",
             {factory}))
      out.push_back(row.get_string(0));
    return out;
  }

  TempDir dir_{"factoryops-rules-it"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<tsdb::TelemetryStore> store_;
  std::unique_ptr<alerts::AlertService> alerts_;
  std::unique_ptr<rules::RuleService> service_;
  std::unique_ptr<rules::RuleRepository> repository_;
};

TEST_P(RulesOnBothEngines, StoresReadsAndListsPerFactory) {
  const core::FactoryId acme("acme");
  const core::FactoryId rival("rival");
  rules::Rule unicode = threshold_rule("Kompressor Überlast ⚡", 75.5);
  unicode.description = "Läuft heiß";
  unicode.channels.emails = {"wartung@example.com"};
  const std::int64_t id = insert("acme", unicode, 5000);
  ASSERT_GT(id, 0);

  auto found = repository_->find(acme, id);
  ASSERT_TRUE(found.has_value());
  rules::Rule expected = unicode;
  expected.id = id;
  EXPECT_EQ(found->rule, expected);
  EXPECT_EQ(found->factory_id, acme);
  EXPECT_EQ(found->version, 1);
  EXPECT_EQ(found->created_by, 7);
  EXPECT_EQ(found->created_at_ms, 5000);
  EXPECT_EQ(found->updated_at_ms, 5000);
  EXPECT_FALSE(repository_->find(rival, id).has_value()) << "another factory's id must not be found";

  // Names are unique per factory only.
  EXPECT_THROW(insert("acme", threshold_rule("Kompressor Überlast ⚡", 1)), core::Conflict);
  EXPECT_GT(insert("rival", threshold_rule("Kompressor Überlast ⚡", 1)), 0);

  insert("acme", threshold_rule("Boiler pressure", 3));
  insert("acme", threshold_rule("Air leak", 2));
  auto page = repository_->list(acme, 2, 0);
  EXPECT_EQ(page.total, 3);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].rule.name, "Air leak");
  EXPECT_EQ(page.items[1].rule.name, "Boiler pressure");
  auto rest = repository_->list(acme, 2, 2);
  ASSERT_EQ(rest.items.size(), 1u);
  EXPECT_EQ(rest.items[0].rule.name, "Kompressor Überlast ⚡");
  EXPECT_EQ(repository_->list(rival, 50, 0).total, 1);
  EXPECT_EQ(repository_->list_all(acme).size(), 3u);
  EXPECT_EQ(repository_->list_all(acme).front().rule.id, id);  // by id
}

TEST_P(RulesOnBothEngines, UpdatesBumpTheVersionAndStayInTheirFactory) {
  const core::FactoryId acme("acme");
  const core::FactoryId rival("rival");
  const std::int64_t id = insert("acme", threshold_rule("Chiller", 10));
  insert("acme", threshold_rule("Pump", 10));

  rules::Rule changed = repository_->find(acme, id)->rule;
  changed.conditions[0].threshold = 12.5;
  changed.enabled = false;
  {
    auto conn = db_->acquire();
    EXPECT_TRUE(rules::RuleRepository::update(acme, *conn, changed, 9000));
    // Same id, other factory: not found, nothing written.
    EXPECT_FALSE(rules::RuleRepository::update(rival, *conn, changed, 9999));
    EXPECT_FALSE(rules::RuleRepository::remove(rival, *conn, id));
    rules::Rule clash = changed;
    clash.name = "Pump";
    EXPECT_THROW(rules::RuleRepository::update(acme, *conn, clash, 9500), core::Conflict);
  }
  auto stored = repository_->find(acme, id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->rule, changed);
  EXPECT_EQ(stored->version, 2);
  EXPECT_EQ(stored->updated_at_ms, 9000);
  EXPECT_EQ(stored->created_at_ms, 1000);
  {
    auto conn = db_->acquire();
    auto row = conn->query_one("SELECT name, severity, is_enabled FROM rules WHERE id = ?", {id});
    EXPECT_EQ(row->get_string(0), "Chiller");
    EXPECT_EQ(row->get_string(1), "major");
    EXPECT_FALSE(row->get_bool(2)) << "the enabled column follows the definition";
    EXPECT_TRUE(rules::RuleRepository::remove(acme, *conn, id));
    EXPECT_FALSE(rules::RuleRepository::remove(acme, *conn, id));
  }
  EXPECT_FALSE(repository_->find(acme, id).has_value());
}

TEST_P(RulesOnBothEngines, TheServiceAuditsNotifiesAndResolvesTheRulesAlerts) {
  auto acme = owner_of("acme");
  std::vector<std::pair<std::int64_t, bool>> heard;
  service_->set_listener([&heard](const core::FactoryId& factory, const rules::Rule& rule, bool removed) {
    EXPECT_EQ(factory.str(), "acme");
    heard.emplace_back(rule.id, removed);
  });

  rules::Rule rule = threshold_rule("Line 2 overload", 75);
  rule.schedule = rules::Schedule{};
  json::object body = body_of(rule).as_object();
  body["schedule"].as_object().erase("timezone");  // the factory's zone applies
  auto created = service_->create(acme, body);
  const std::int64_t id = created.rule.id;
  EXPECT_EQ(created.rule.schedule->timezone, "Europe/Berlin");
  EXPECT_EQ(created.created_by, 1);
  EXPECT_THROW(service_->create(acme, body), core::Conflict);
  EXPECT_THROW(service_->get(owner_of("rival"), id), core::NotFound);

  auth::FactoryContext viewer = acme;
  viewer.role = auth::Role::admin;
  viewer.permissions = {};
  EXPECT_THROW(service_->create(viewer, body), core::Forbidden);
  EXPECT_EQ(service_->get(viewer, id).rule.name, "Line 2 overload");

  // An open alert of the rule is resolved when the rule is disabled.
  alerts::Trigger trigger;
  trigger.rule_id = id;
  trigger.rule_name = "Line 2 overload";
  trigger.device_id = "press-1";
  trigger.severity = rules::Severity::major;
  trigger.started_at_ms = 1000;
  auto raised = alerts_->raise(core::FactoryId("acme"), trigger);
  ASSERT_EQ(raised.result, alerts::RaiseResult::opened);
  auto same = service_->update(acme, id, json::object{{"description", ""}});
  EXPECT_EQ(same.version, 1) << "a PATCH that changes nothing is not a new version";
  auto disabled = service_->update(acme, id, json::object{{"enabled", false}});
  EXPECT_EQ(disabled.version, 2);
  EXPECT_FALSE(disabled.rule.enabled);
  EXPECT_FALSE(alerts_->find_unresolved(core::FactoryId("acme"), id, "press-1").has_value());
  EXPECT_EQ(alerts_->find(core::FactoryId("acme"), raised.alert.id)->resolution, "auto");

  // And when it is deleted.
  service_->update(acme, id, json::object{{"enabled", true}});
  raised = alerts_->raise(core::FactoryId("acme"), trigger);
  ASSERT_EQ(raised.result, alerts::RaiseResult::opened);
  service_->remove(acme, id);
  EXPECT_FALSE(alerts_->find_unresolved(core::FactoryId("acme"), id, "press-1").has_value());
  EXPECT_THROW(service_->remove(acme, id), core::NotFound);

  EXPECT_EQ(audit_actions("acme"),
            (std::vector<std::string>{"rule.created", "rule.updated", "rule.updated", "rule.deleted"}));
  EXPECT_TRUE(audit_actions("rival").empty());
  EXPECT_EQ(heard,
            (std::vector<std::pair<std::int64_t, bool>>{{id, false}, {id, false}, {id, false}, {id, true}}));
}

INSTANTIATE_TEST_SUITE_P(Engines, RulesOnBothEngines, ::testing::Values("sqlite", "mariadb"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace factoryops::testing
