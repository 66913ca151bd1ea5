// The retention scheduler: every factory's policy reaches the store at start and then every
// period; a failing factory or an unreadable policy list is retried, never fatal.
#include "tsdb/retention_scheduler.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "telemetry_query_store_double.hpp"

namespace factoryops::tsdb {
namespace {
using namespace std::chrono_literals;

std::vector<std::pair<core::FactoryId, RetentionPolicy>> two_factories() {
  return {{core::FactoryId("acme"), RetentionPolicy{183, 730}},
          {core::FactoryId("rival"), RetentionPolicy{366, 1826}}};
}

TEST(RetentionScheduler, OneCycleAppliesEveryPolicyAndSurvivesAFailingFactory) {
  testing::StoreDouble store;
  store.failing_factories.insert("acme");
  RetentionScheduler scheduler(store, two_factories, 1h, [] { return std::int64_t{42}; });
  auto run = scheduler.run_once();
  EXPECT_EQ(run.factories, 1);
  EXPECT_EQ(run.failures, 1);
  auto calls = store.retention_snapshot();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].factory, "rival");
  EXPECT_EQ(calls[0].raw_days, 366);
  EXPECT_EQ(calls[0].rollup_days, 1826);
  EXPECT_EQ(calls[0].now_ms, 42);

  store.failing_factories.clear();
  run = scheduler.run_once();
  EXPECT_EQ(run.factories, 2);
  EXPECT_EQ(run.failures, 0);
}

TEST(RetentionScheduler, AnUnreadablePolicyListIsReportedNotThrown) {
  testing::StoreDouble store;
  RetentionScheduler scheduler(store, []() -> std::vector<std::pair<core::FactoryId, RetentionPolicy>> {
    throw std::runtime_error("metadata store down");
  });
  RetentionRun run;
  EXPECT_NO_THROW(run = scheduler.run_once());
  EXPECT_EQ(run.failures, 1);
  EXPECT_TRUE(store.retention_snapshot().empty());
}

TEST(RetentionScheduler, RunsAtStartThenEveryPeriodAndStopsPromptly) {
  testing::StoreDouble store;
  int asked = 0;
  std::mutex m;
  RetentionScheduler scheduler(
      store,
      [&] {
        std::lock_guard lock(m);
        // The first list fails (database still starting): the next cycle must retry.
        if (asked++ == 0) throw std::runtime_error("not yet");
        return two_factories();
      },
      20ms);
  scheduler.start();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  // A cycle is counted after its store calls, so wait for both.
  while ((store.retention_snapshot().size() < 4 || scheduler.cycles() < 3) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_GE(store.retention_snapshot().size(), 4u);
  EXPECT_GE(scheduler.cycles(), 3);

  // A long period must not delay stop().
  testing::StoreDouble idle_store;
  RetentionScheduler idle(idle_store, two_factories, 1h);
  idle.start();
  while (idle.cycles() < 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(idle_store.retention_snapshot().size(), 2u) << "no cycle at start";
  const auto before = std::chrono::steady_clock::now();
  idle.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
  scheduler.stop();
}

}  // namespace
}  // namespace factoryops::tsdb
