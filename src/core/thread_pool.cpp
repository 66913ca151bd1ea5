#include "core/thread_pool.hpp"

#include <exception>
#include <stdexcept>

#include "core/logging.hpp"

namespace factoryops::core {

BlockingPool::BlockingPool(std::size_t threads, std::size_t queue_capacity)
    : threads_(threads), capacity_(queue_capacity) {
  if (threads == 0) throw std::invalid_argument("BlockingPool needs at least one thread");
  workers_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

BlockingPool::~BlockingPool() {
  shutdown();
}

bool BlockingPool::try_submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (closed_ || queue_.size() >= capacity_) return false;
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

void BlockingPool::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (closed_ && workers_.empty()) return;
    closed_ = true;
  }
  ready_.notify_all();
  for (auto& worker : workers_) {
    // A task may call shutdown() on its own pool; joining itself would deadlock.
    if (worker.get_id() == std::this_thread::get_id()) {
      worker.detach();
    } else if (worker.joinable()) {
      worker.join();
    }
  }
  std::lock_guard lock(mutex_);
  workers_.clear();
}

std::size_t BlockingPool::queue_depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void BlockingPool::work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return closed_ || !queue_.empty(); });
      // Closed pools still drain: callers rely on accepted tasks running exactly once.
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      log::error("blocking task failed", {{"error", e.what()}});
    } catch (...) {
      log::error("blocking task failed", {{"error", "unknown exception"}});
    }
  }
}

}  // namespace factoryops::core
