#include "simulator/run_stats.hpp"

#include <iostream>

namespace factoryops::simulator {

void RunStats::error(const std::string& what, std::uint64_t count) {
  errors += count;
  echo(what);
}

void RunStats::echo(const std::string& what) {
  std::lock_guard lock(echo_mutex_);
  if (echoed_++ < 5) std::cerr << "simulate: " << what << "\n";
}

ProgressPrinter::ProgressPrinter(const RunStats& stats, std::ostream* out,
                                 std::function<std::string()> extra) {
  if (out == nullptr) return;
  thread_ = std::thread([this, &stats, out, extra = std::move(extra)] {
    const auto started = std::chrono::steady_clock::now();
    auto last = started;
    std::uint64_t last_values = 0;
    while (!finished_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(5)) continue;
      std::uint64_t values = stats.values.load();
      double rate =
          static_cast<double>(values - last_values) / std::chrono::duration<double>(now - last).count();
      *out << "simulate: " << static_cast<long long>(std::chrono::duration<double>(now - started).count())
           << " s, " << (extra ? extra() : std::string()) << stats.readings.load() << " readings, " << values
           << " values, " << static_cast<long long>(rate) << " values/s, " << stats.errors.load() << " errors"
           << std::endl;
      last = now;
      last_values = values;
    }
  });
}

ProgressPrinter::~ProgressPrinter() {
  finished_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace factoryops::simulator
