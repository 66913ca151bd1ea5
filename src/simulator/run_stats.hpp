// The counters of one simulation run, shared by its network threads, when the run ends, and the
// progress line printed every five seconds while it runs. Counters are atomics and error() serialises its
// echo, so every member is thread-safe; a ProgressPrinter runs its own thread until destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <string>
#include <thread>

namespace factoryops::simulator {

// When a run ends: `stop` is set (by the caller, or by SIGINT/SIGTERM) or the deadline passed.
struct RunControl {
  const std::atomic<bool>* stop = nullptr;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool over() const { return stop->load() || std::chrono::steady_clock::now() >= deadline; }
};

struct RunStats {
  std::atomic<std::uint64_t> messages{0};  // requests / publishes the server or broker accepted
  std::atomic<std::uint64_t> readings{0};  // readings in them
  std::atomic<std::uint64_t> values{0};    // values in those readings
  std::atomic<std::uint64_t> refused{0};   // messages the broker refused (MQTT 5 reason >= 0x80)
  std::atomic<std::uint64_t> unrouted{0};  // accepted messages no subscriber was there to take
  std::atomic<std::uint64_t> errors{0};    // failed requests, connections, unacknowledged messages
  std::atomic<std::int64_t> connected{0};  // MQTT connections up now

  // Counts an error and echoes the first five to stderr, so a broken run says why at once
  // without flooding the terminal.
  void error(const std::string& what, std::uint64_t count = 1);
  // Echoes like error() without counting (a refusal is counted in `refused`).
  void echo(const std::string& what);

 private:
  std::mutex echo_mutex_;
  int echoed_ = 0;
};

// Prints "simulate: 5 s, N readings, N values, N values/s, N errors" (plus `extra()`, e.g. how
// many machines are connected) every five seconds to `out`; nothing when `out` is null.
class ProgressPrinter {
 public:
  ProgressPrinter(const RunStats& stats, std::ostream* out, std::function<std::string()> extra = {});
  ~ProgressPrinter();
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

 private:
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace factoryops::simulator
