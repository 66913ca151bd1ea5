// BlockingPool: a fixed set of worker threads with a bounded FIFO queue, for work that may
// block (SQL, file I/O, rendering) and must stay off the network I/O threads. Thread-safe.
// Lives as long as the application; shutdown() (or the destructor) drains queued work first.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace factoryops::core {

class BlockingPool {
 public:
  // `threads` >= 1; `queue_capacity` bounds the tasks waiting for a worker (running ones excluded).
  BlockingPool(std::size_t threads, std::size_t queue_capacity);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Queues `task`; false when the queue is full or the pool is shut down (the task is not run).
  // A task that throws has its exception logged and swallowed: tasks report through their own
  // channels.
  bool try_submit(std::function<void()> task);

  // Stops accepting tasks, runs every task already queued, then joins the workers. Idempotent.
  void shutdown();

  std::size_t queue_depth() const;
  std::size_t queue_capacity() const { return capacity_; }
  std::size_t thread_count() const { return threads_; }

 private:
  void work();

  const std::size_t threads_;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool closed_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace factoryops::core
