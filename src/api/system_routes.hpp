// The system routes: GET /health, /metrics, /api/v1/openapi.json and /api/v1/system/info.
// register_system_routes() adds them to a Router during start-up; the objects named in
// SystemRoutesDeps must outlive the router. Handlers are thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "http/types.hpp"

namespace factoryops::core::metrics {
class Registry;
}
namespace factoryops::http {
class Router;
}

namespace factoryops::api {

class HealthService;

struct SystemInfo {
  std::string version;
  std::vector<std::string> roles;  // as started: "api", "telemetry", …
  std::string metadata_backend;    // "sqlite" | "mysql"
  std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();
};

struct SystemRoutesDeps {
  const HealthService* health = nullptr;       // required
  core::metrics::Registry* metrics = nullptr;  // null: core::metrics::Registry::global()
  SystemInfo info;
};

// Throws std::invalid_argument when `deps.health` is null.
void register_system_routes(http::Router& router, const SystemRoutesDeps& deps);

// The GET /api/v1/system/info body at `now`.
std::string system_info_json(const SystemInfo& info, std::chrono::system_clock::time_point now);

// RFC 3339 in UTC with second precision: "2024-05-01T08:30:00Z".
std::string format_rfc3339(std::chrono::system_clock::time_point time);

}  // namespace factoryops::api
