// `factoryops simulate`: provisions simulated machines sim-001… in a factory through the
// metadata DB and posts their readings to POST /api/v1/ingest over HTTP (libcurl, keep-alive),
// at a rate per machine or as fast as possible (the load generator of the benchmarks).
// run_simulation() owns its threads and returns when done; the options are plain values.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/ids.hpp"
#include "db/database.hpp"
#include "tsdb/store.hpp"

namespace factoryops::simulator {

struct SimulatorOptions {
  std::string factory{};
  int devices = 1;                            // 1..10000
  double rate_hz = 1.0;                       // readings per second per machine; 0 = as fast as possible
  std::string transport = "http";             // only "http" for now
  std::string url = "http://127.0.0.1:8000";  // simulate_command(): empty = this config's port
  double duration_seconds = 0;                // 0 = until interrupted
  int batch = 1;                              // readings per request, 1..5000
  int connections = 1;                        // parallel HTTP connections, 1..256
  std::uint64_t seed = 1;
};

// Throws core::Invalid naming the option (--devices, --rate, …) and what is wrong.
void validate(const SimulatorOptions& options);

struct DeviceCredentials {
  std::string device_id;
  std::string api_key;
};

// "sim-001", "sim-002", …: created when missing, otherwise given a new key (keys are shown only
// once, so rotating is the only way to learn one). core::Invalid("factory", …) for an unknown
// factory.
std::vector<DeviceCredentials> provision_devices(db::Database& database, const core::FactoryId& factory,
                                                 int count);

// A JSON array of the readings: [{"ts":…,"power_kw":12.5,…},…].
std::string readings_json(std::span<const tsdb::Reading> readings);

struct SimulationSummary {
  std::uint64_t requests = 0;
  std::uint64_t readings = 0;  // readings the server accepted
  std::uint64_t values = 0;    // values in those readings
  std::uint64_t errors = 0;    // failed requests (transport errors and non-202 answers)
  double seconds = 0;
};

// Posts until the duration has passed or `stop` becomes true; progress lines go to `progress`
// (null: quiet).
SimulationSummary run_simulation(const SimulatorOptions& options,
                                 const std::vector<DeviceCredentials>& devices, const std::atomic<bool>& stop,
                                 std::ostream* progress);

// The whole command: validate, provision, run until done or SIGINT/SIGTERM, print a summary.
// Returns the process exit code (2 for bad options, 1 when every request failed).
int simulate_command(const core::Config& config, const SimulatorOptions& options);

}  // namespace factoryops::simulator
