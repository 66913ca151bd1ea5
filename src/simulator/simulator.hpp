// `factoryops simulate`: provisions simulated machines sim-001… in a factory through the
// metadata DB (and on the MQTT broker when it runs Mosquitto's dynamic security), then sends
// their readings over HTTP (POST /api/v1/ingest) or MQTT (each machine its own connection and
// key), at a rate per machine or as fast as possible (the load generator of the benchmarks).
// run_simulation() owns its threads and returns when done; the options are plain values.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/ids.hpp"
#include "db/database.hpp"
#include "devices/broker_credentials.hpp"
#include "simulator/feed.hpp"

namespace factoryops::simulator {

struct SimulatorOptions {
  std::string factory{};
  int devices = 1;                 // 1..10000
  double rate_hz = 1.0;            // readings per second per machine; 0 = as fast as possible
  std::string transport = "http";  // "http" or "mqtt"
  // http: the server's base URL; mqtt: the broker, mqtt://host:port. simulate_command() fills
  // an empty one from the configuration (its HTTP port, FACTORYOPS_MQTT_URL).
  std::string url = "http://127.0.0.1:8000";
  double duration_seconds = 0;  // 0 = until interrupted
  int batch = 1;                // readings per request or message, 1..5000
  int connections = 0;          // http: parallel connections, 1..256 (0: one)
  std::uint64_t seed = 1;
  bool sequence = false;  // number each machine's readings with a "seq" metric
  int qos = 1;            // mqtt: 0 or 1
  int inflight = 0;       // mqtt: unacknowledged messages per machine, 1..1000 (0: 10)
  int threads = 0;        // mqtt: network threads, 1..64 (0: one per core, at most 4)
};

inline constexpr int kDefaultInflight = 10;

// The parts of the options each machine's feed needs.
FeedOptions feed_options(const SimulatorOptions& options);

// Throws core::Invalid naming the option (--devices, --rate, …) and what is wrong.
void validate(const SimulatorOptions& options);

struct DeviceCredentials {
  std::string device_id;
  std::string api_key;
};

// "sim-001", "sim-002", …: created when missing, otherwise given a new key (keys are shown only
// once, so rotating is the only way to learn one). With a `broker`, each new key is granted on
// it (and the old one revoked) before the registry commits, as the API does; core::Unavailable
// when the broker cannot be reached. core::Invalid("--factory", …) for an unknown factory.
std::vector<DeviceCredentials> provision_devices(db::Database& database, const core::FactoryId& factory,
                                                 int count, devices::BrokerCredentials* broker = nullptr);

struct SimulationSummary {
  std::uint64_t requests = 0;  // HTTP requests or MQTT messages answered with success
  std::uint64_t readings = 0;  // readings in them
  std::uint64_t values = 0;    // values in those readings
  std::uint64_t refused = 0;   // MQTT messages the broker refused (reason code >= 0x80)
  std::uint64_t unrouted = 0;  // MQTT messages accepted with no subscriber to take them
  std::uint64_t errors = 0;    // failed requests, connections lost or refused, unacknowledged messages
  double seconds = 0;
};

// Sends until the duration has passed or `stop` becomes true; progress lines go to `progress`
// (null: quiet).
SimulationSummary run_simulation(const SimulatorOptions& options,
                                 const std::vector<DeviceCredentials>& devices, const std::atomic<bool>& stop,
                                 std::ostream* progress);

// The whole command: validate, provision, run until done or SIGINT/SIGTERM, print a summary.
// Returns the process exit code (2 for bad options, 1 when nothing could be sent).
int simulate_command(const core::Config& config, const SimulatorOptions& options);

}  // namespace factoryops::simulator
