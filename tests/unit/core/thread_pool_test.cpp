#include "core/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>

namespace factoryops::core {
namespace {

TEST(BlockingPool, RunsSubmittedTasks) {
  BlockingPool pool(2, 16);
  std::atomic<int> done{0};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(pool.try_submit([&] { ++done; }));
  pool.shutdown();
  EXPECT_EQ(done.load(), 10);
}

TEST(BlockingPool, RejectsWhenQueueIsFull) {
  BlockingPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> running;
  ASSERT_TRUE(pool.try_submit([&] {
    running.set_value();
    gate.wait();
  }));
  running.get_future().wait();  // the worker is busy; the queue is empty
  EXPECT_TRUE(pool.try_submit([gate] { gate.wait(); }));
  EXPECT_TRUE(pool.try_submit([gate] { gate.wait(); }));
  EXPECT_EQ(pool.queue_depth(), 2u);
  EXPECT_FALSE(pool.try_submit([] {}));
  release.set_value();
  pool.shutdown();
  EXPECT_EQ(pool.queue_depth(), 0u);
}

TEST(BlockingPool, ShutdownDrainsQueuedTasksAndRefusesNewOnes) {
  BlockingPool pool(1, 100);
  std::atomic<int> done{0};
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(pool.try_submit([&] {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      ++done;
    }));
  }
  pool.shutdown();
  EXPECT_EQ(done.load(), 50);
  EXPECT_FALSE(pool.try_submit([] {}));
  pool.shutdown();  // idempotent
}

TEST(BlockingPool, ThrowingTaskDoesNotKillTheWorker) {
  BlockingPool pool(1, 4);
  ASSERT_TRUE(pool.try_submit([] { throw std::runtime_error("boom"); }));
  std::promise<int> result;
  ASSERT_TRUE(pool.try_submit([&] { result.set_value(42); }));
  auto future = result.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(future.get(), 42);
}

TEST(BlockingPool, RejectsZeroThreads) {
  EXPECT_THROW(BlockingPool(0, 1), std::invalid_argument);
}

}  // namespace
}  // namespace factoryops::core
