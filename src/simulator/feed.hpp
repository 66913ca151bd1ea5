// What one simulated machine sends next, whatever the transport: its model's readings at even
// steps (paced runs end each batch at the present; load runs replay the last 30 days ahead of
// the clock), optionally numbered with a per-machine `seq` so a test can count what arrived,
// and the JSON a device would send. Not thread-safe: one feed per machine, one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "simulator/machine_model.hpp"
#include "tsdb/store.hpp"

namespace factoryops::simulator {

struct FeedOptions {
  double rate_hz = 1.0;   // readings per second; 0 = as fast as the transport goes
  int batch = 1;          // readings per message
  bool sequence = false;  // add "seq": 0, 1, 2, … to every reading
  std::uint64_t seed = 1;
};

// The metric a feed numbers its readings with (--sequence).
inline constexpr const char* kSequenceKey = "seq";

class MachineFeed {
 public:
  // `index` is the machine's position (0 for sim-001): with the seed it decides the machine's
  // size and its noise, so runs are repeatable. `start_ms` is the wall clock at the start.
  MachineFeed(const FeedOptions& options, std::size_t index, std::int64_t start_ms);

  // Replaces `out` with the next batch and returns the number of values in it. `now_ms` is the
  // wall clock: a load run that has caught up with it starts over 30 days back.
  std::size_t next(std::vector<tsdb::Reading>& out, std::int64_t now_ms);

  // Spacing of a machine's readings: 1/rate, or 1 s when sending as fast as possible.
  std::int64_t step_ms() const { return step_ms_; }
  std::uint64_t next_sequence() const { return sequence_; }
  const MachineProfile& profile() const { return model_.profile(); }

 private:
  FeedOptions options_;
  MachineModel model_;
  std::int64_t step_ms_;
  std::int64_t next_ts_ms_;
  std::uint64_t sequence_ = 0;
};

// One reading as a JSON object: {"ts":…,"power_kw":12.5,…}.
void append_reading_json(std::string& out, const tsdb::Reading& reading);
// A JSON array of the readings: [{"ts":…,"power_kw":12.5,…},…].
std::string readings_json(std::span<const tsdb::Reading> readings);
// What a device sends: one reading as an object, several as an array (a backlog upload).
std::string payload_json(std::span<const tsdb::Reading> readings);

}  // namespace factoryops::simulator
