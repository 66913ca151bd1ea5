// `simulate --transport mqtt`: every machine is its own MQTT 5 connection, with its API key as
// username and password, a retained last will "offline" (QoS 1) on its status topic, a retained
// "online" once connected and "offline" before a clean disconnect; readings go to its telemetry
// topic as the same JSON as over HTTP. libmosquitto runs without threads of its own: a few
// network threads each poll() the sockets of their share of the machines and drive
// mosquitto_loop_read/write/misc, so hundreds of connections need no thread each, and at most
// `inflight` messages per machine wait for the broker's acknowledgement. run_mqtt() owns its
// threads and returns once the run is over and every machine has said goodbye (or timed out).
#pragma once

#include <cstddef>
#include <vector>

#include "simulator/run_stats.hpp"
#include "simulator/simulator.hpp"

namespace factoryops::simulator {

enum class Acknowledgement { accepted, unrouted, refused };

// What the broker's answer to a publish means. `reason` is the MQTT 5 PUBACK reason code (0
// for QoS 0): 0x10 "no matching subscribers" is accepted with nobody there to take the message;
// 0x80 and above refuse it (0x87 not authorised, 0x97 quota exceeded, …).
Acknowledgement classify_acknowledgement(int reason);

// Network threads for `machines` connections: `requested` when not 0, otherwise one per core
// and at most 4; never more than there are machines.
int network_threads(int requested, int machines, unsigned hardware_threads);

// Open files a run of `machines` connections needs: libmosquitto keeps a socket pair per client
// besides its connection, and the process needs a few of its own.
std::size_t descriptors_needed(int machines);

// Raises the soft limit of open files up to the hard limit when the run needs more; throws
// core::Invalid("--devices", …) when even the hard limit is too low.
void ensure_descriptors(int machines);

// The broker is options.url (mqtt://host:port).
void run_mqtt(const SimulatorOptions& options, const std::vector<DeviceCredentials>& devices,
              const core::FactoryId& factory, const RunControl& control, RunStats& stats);

}  // namespace factoryops::simulator
