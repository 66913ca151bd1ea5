// The alert lifecycle on both metadata engines: one unresolved alert per (rule, machine) held by
// the unique index even when several replicas raise at once, escalation, automatic and manual
// resolution, acknowledgement, the notification log, filters, counts and factory isolation.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "alerts/alert_service.hpp"
#include "auth/context.hpp"
#include "core/errors.hpp"
#include "db/database.hpp"
#include "db/factory_repository.hpp"
#include "db/migrations.hpp"
#include "harness/mariadb.hpp"
#include "harness/process.hpp"

namespace factoryops::testing {
namespace {

using alerts::AlertStatus;
using alerts::RaiseResult;
using rules::Severity;

auth::FactoryContext admin_of(std::string_view factory, std::int64_t user_id) {
  return auth::FactoryContext{core::FactoryId(factory), user_id, "engineer@example.com",
                              auth::Role::admin,        {},      "req-alerts"};
}

alerts::Trigger trigger(std::int64_t rule_id, const std::string& device, Severity severity, double value) {
  alerts::Trigger t;
  t.rule_id = rule_id;
  t.rule_name = "Compressor power high";
  t.device_id = device;
  t.severity = severity;
  t.parameter = "power_kw";
  t.value = value;
  t.threshold = 75;
  t.message = "power_kw > 75";
  t.started_at_ms = 1'780'272'000'000;
  return t;
}

class AlertsOnBothEngines : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static int counter = 0;
    url_ = GetParam() == "mariadb"
               ? MariaDbServer::shared().create_database("fo_alerts_" + std::to_string(++counter))
               : "sqlite:///" + (dir_.path() / "fo.db").string();
    db_ = db::Database::open(url_);
    db::migrate(*db_);
    db::FactoryRepository factories(*db_);
    factories.create({core::FactoryId("acme"), "Acme Metals"});
    factories.create({core::FactoryId("rival"), "Rival Plastics"});
    auto conn = db_->acquire();
    auto user = conn->execute(
        "INSERT INTO users (factory_id, email, name, role, created_at, updated_at) "
        "VALUES ('acme', 'engineer@example.com', 'Erin Engineer', 'admin', 1, 1)");
    user_id_ = user.last_insert_id;
    service_ = std::make_unique<alerts::AlertService>(*db_);
    service_->set_listener(
        [this](const core::FactoryId& factory, std::string_view event, const alerts::Alert& a) {
          events_.push_back(factory.str() + ":" + std::string(event) + ":" + std::to_string(a.id));
        });
  }

  std::int64_t unresolved_rows(std::int64_t rule_id, const std::string& device) {
    auto conn = db_->acquire();
    auto row = conn->query_one(
        "SELECT COUNT(*) FROM alerts WHERE factory_id = 'acme' AND rule_id = ? AND device_id = ? "
        "AND status <> 'resolved'",
        {rule_id, device});
    return row ? row->get_int(0) : -1;
  }

  TempDir dir_{"factoryops-alerts-it"};
  std::string url_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<alerts::AlertService> service_;
  std::int64_t user_id_ = 0;
  std::vector<std::string> events_;
};

TEST_P(AlertsOnBothEngines, OneUnresolvedAlertPerRuleAndMachineThroughItsLife) {
  const core::FactoryId acme("acme");
  auto opened = service_->raise(acme, trigger(7, "comp-1", Severity::major, 80));
  ASSERT_EQ(opened.result, RaiseResult::opened);
  EXPECT_EQ(opened.alert.status, AlertStatus::open);
  EXPECT_EQ(opened.alert.value, 80);
  EXPECT_EQ(opened.alert.threshold, 75);

  auto again = service_->raise(acme, trigger(7, "comp-1", Severity::minor, 82));
  EXPECT_EQ(again.result, RaiseResult::unchanged);
  EXPECT_EQ(again.alert.id, opened.alert.id);
  EXPECT_EQ(again.alert.severity, Severity::major) << "a milder trigger must not lower the severity";
  EXPECT_EQ(again.alert.last_value, 82);

  auto acked = service_->acknowledge(admin_of("acme", user_id_), opened.alert.id, "on my way");
  EXPECT_EQ(acked.status, AlertStatus::acknowledged);
  ASSERT_TRUE(acked.acknowledged_by.has_value());
  EXPECT_EQ(acked.acknowledged_by->email, "engineer@example.com");
  EXPECT_EQ(acked.ack_comment, "on my way");
  EXPECT_THROW(service_->acknowledge(admin_of("acme", user_id_), opened.alert.id, std::nullopt),
               core::Conflict);

  // Worse: the same alert escalates and wants attention again.
  auto escalated = service_->raise(acme, trigger(7, "comp-1", Severity::critical, 95));
  EXPECT_EQ(escalated.result, RaiseResult::escalated);
  EXPECT_EQ(escalated.alert.id, opened.alert.id);
  EXPECT_EQ(escalated.alert.severity, Severity::critical);
  EXPECT_EQ(escalated.alert.status, AlertStatus::open);
  EXPECT_TRUE(escalated.alert.escalated_at_ms.has_value());
  EXPECT_EQ(unresolved_rows(7, "comp-1"), 1);

  auto cleared = service_->clear(acme, 7, "comp-1", 60.0, 1'780'272'600'000);
  ASSERT_TRUE(cleared.has_value());
  EXPECT_EQ(cleared->status, AlertStatus::resolved);
  EXPECT_EQ(cleared->resolution, "auto");
  EXPECT_FALSE(cleared->resolved_by.has_value());
  EXPECT_EQ(cleared->resolved_at_ms, 1'780'272'600'000);
  EXPECT_FALSE(service_->clear(acme, 7, "comp-1", 60.0, 1'780'272'700'000).has_value());

  // Resolved alerts are kept; the next episode is a new alert.
  auto next = service_->raise(acme, trigger(7, "comp-1", Severity::major, 81));
  EXPECT_EQ(next.result, RaiseResult::opened);
  EXPECT_NE(next.alert.id, opened.alert.id);
  auto manual = service_->resolve(admin_of("acme", user_id_), next.alert.id, "valve replaced");
  EXPECT_EQ(manual.resolution, "manual");
  ASSERT_TRUE(manual.resolved_by.has_value());
  EXPECT_EQ(manual.resolved_by->name, "Erin Engineer");
  EXPECT_THROW(service_->resolve(admin_of("acme", user_id_), next.alert.id, std::nullopt), core::Conflict);

  std::vector<std::string> want{"acme:opened:" + std::to_string(opened.alert.id),
                                "acme:acknowledged:" + std::to_string(opened.alert.id),
                                "acme:escalated:" + std::to_string(opened.alert.id),
                                "acme:resolved:" + std::to_string(opened.alert.id),
                                "acme:opened:" + std::to_string(next.alert.id),
                                "acme:resolved:" + std::to_string(next.alert.id)};
  EXPECT_EQ(events_, want);

  auto conn = db_->acquire();
  auto audited = conn->query_one(
      "SELECT COUNT(*) FROM audit_log WHERE factory_id = 'acme' AND action IN ('alert.acknowledged', "
      "'alert.resolved')");
  ASSERT_TRUE(audited.has_value());
  EXPECT_EQ(audited->get_int(0), 2);
}

// Two rule-engine replicas (separate connection pools) fed the same firing at the same moment:
// exactly one alert is opened, whoever wins; the others see it unchanged.
TEST_P(AlertsOnBothEngines, RacingReplicasOpenExactlyOneAlert) {
  auto second_db = db::Database::open(url_);
  alerts::AlertService replica_a(*db_);
  alerts::AlertService replica_b(*second_db);
  for (int round = 0; round < 5; ++round) {
    const std::string device = "comp-" + std::to_string(round);
    std::atomic<int> opened{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        try {
          auto raised = (t % 2 == 0 ? replica_a : replica_b)
                            .raise(core::FactoryId("acme"), trigger(11, device, Severity::major, 90));
          if (raised.result == RaiseResult::opened) ++opened;
        } catch (const std::exception&) {
          ++failures;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0) << device;
    EXPECT_EQ(opened.load(), 1) << device;
    EXPECT_EQ(unresolved_rows(11, device), 1) << device;
  }
  // The data model itself refuses a second unresolved row, whatever the code path.
  auto conn = db_->acquire();
  EXPECT_THROW(
      conn->execute("INSERT INTO alerts (factory_id, rule_id, device_id, rule_name, severity, status, "
                    "open_guard, started_at, updated_at) VALUES ('acme', 11, 'comp-0', 'x', 'major', "
                    "'open', 1, 1, 1)"),
      core::Conflict);
}

TEST_P(AlertsOnBothEngines, ListsFilterCountAndStayInTheirFactory) {
  const core::FactoryId acme("acme");
  auto a1 = service_->raise(acme, trigger(1, "m1", Severity::critical, 90)).alert;
  auto a2 = service_->raise(acme, trigger(2, "m1", Severity::warning, 76)).alert;
  auto a3 = service_->raise(acme, trigger(1, "m2", Severity::major, 88)).alert;
  auto other = service_->raise(core::FactoryId("rival"), trigger(1, "m1", Severity::critical, 99)).alert;
  service_->acknowledge(admin_of("acme", user_id_), a2.id, std::nullopt);
  service_->clear(acme, 1, "m2", 70.0, 1'780'272'900'000);

  auto ctx = admin_of("acme", user_id_);
  alerts::AlertFilter all;
  auto page = service_->list(ctx, all);
  EXPECT_EQ(page.total, 3);
  ASSERT_EQ(page.items.size(), 3u);

  alerts::AlertFilter unresolved;
  unresolved.statuses = {AlertStatus::open, AlertStatus::acknowledged};
  EXPECT_EQ(service_->list(ctx, unresolved).total, 2);
  alerts::AlertFilter critical_m1;
  critical_m1.severities = {Severity::critical};
  critical_m1.device_id = "m1";
  auto critical = service_->list(ctx, critical_m1);
  ASSERT_EQ(critical.total, 1);
  EXPECT_EQ(critical.items[0].id, a1.id);
  alerts::AlertFilter by_rule;
  by_rule.rule_id = 1;
  by_rule.limit = 1;
  auto first = service_->list(ctx, by_rule);
  EXPECT_EQ(first.total, 2);
  EXPECT_EQ(first.items.size(), 1u);

  auto counts = service_->counts(ctx);
  EXPECT_EQ(counts.open, 1);
  EXPECT_EQ(counts.acknowledged, 1);
  EXPECT_EQ(counts.by_severity["critical"], 1);
  EXPECT_EQ(counts.by_severity["warning"], 1);
  EXPECT_EQ(counts.by_device["m1"], 2);
  EXPECT_EQ(counts.by_device.count("m2"), 0u);

  alerts::NotificationAttempt sent{"opened", "email", "maint@example.com", true, "250 OK", "msg-1", 1, 5};
  alerts::NotificationAttempt failed{"opened", "whatsapp", "+4915112345678", false, "timeout", std::nullopt,
                                     1,        6};
  service_->record_notification(acme, a1.id, sent);
  service_->record_notification(acme, a1.id, failed);
  auto detail = service_->get(ctx, a1.id);
  ASSERT_EQ(detail.notifications.size(), 2u);
  EXPECT_EQ(detail.notifications[0].attempt.channel, "email");
  EXPECT_TRUE(detail.notifications[0].attempt.sent);
  EXPECT_FALSE(detail.notifications[1].attempt.sent);
  EXPECT_EQ(detail.notifications[1].attempt.detail, "timeout");

  // Another factory's alert is not found, for reading, acknowledging, resolving or logging.
  EXPECT_THROW(service_->get(ctx, other.id), core::NotFound);
  EXPECT_THROW(service_->acknowledge(ctx, other.id, std::nullopt), core::NotFound);
  EXPECT_THROW(service_->resolve(ctx, other.id, std::nullopt), core::NotFound);
  EXPECT_THROW(service_->record_notification(acme, other.id, sent), core::NotFound);
  EXPECT_EQ(service_->list(admin_of("rival", 0), all).total, 1);

  // A deleted rule takes its unresolved alerts with it (they are kept, resolved).
  auto gone = service_->resolve_rule(acme, 1, "rule deleted", 1'780'273'000'000);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].id, a1.id);
  EXPECT_EQ(gone[0].resolve_comment, "rule deleted");
  EXPECT_EQ(service_->counts(ctx).open, 0);
  EXPECT_EQ(service_->list(ctx, all).total, 3);
}

INSTANTIATE_TEST_SUITE_P(Engines, AlertsOnBothEngines, ::testing::Values("sqlite", "mariadb"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace factoryops::testing
