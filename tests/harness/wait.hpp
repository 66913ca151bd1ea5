// Waiting helpers for integration tests that watch a server settle: the wall clock in epoch
// milliseconds, and polling a condition until it holds or a timeout passes.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

namespace factoryops::testing {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Polls `predicate` every 50 ms until it is true or `timeout` has passed; returns its last answer.
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return predicate();
}

}  // namespace factoryops::testing
