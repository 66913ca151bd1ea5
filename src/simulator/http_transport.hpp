// `simulate --transport http`: the machines post their readings to POST /api/v1/ingest with
// their own keys (`Authorization: Device <key>`) over a few keep-alive libcurl connections, each
// serving its share of the machines in turn. run_http() owns its threads and returns when the
// run is over; curl_global_init() must have been called.
#pragma once

#include <vector>

#include "simulator/run_stats.hpp"
#include "simulator/simulator.hpp"

namespace factoryops::simulator {

void run_http(const SimulatorOptions& options, const std::vector<DeviceCredentials>& devices,
              const RunControl& control, RunStats& stats);

}  // namespace factoryops::simulator
