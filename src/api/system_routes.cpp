#include "api/system_routes.hpp"

#include <ctime>
#include <stdexcept>

#include <boost/json.hpp>

#include "api/health.hpp"
#include "core/errors.hpp"
#include "core/metrics.hpp"
#include "core/resources.hpp"
#include "http/router.hpp"

namespace factoryops::api {
namespace json = boost::json;

// Formats from the civil calendar directly instead of gmtime_r + strftime: list responses
// format three timestamps per row, and strftime's locale and time-zone handling showed up in
// profiles of GET /api/v1/devices.
std::string format_rfc3339(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(time);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  std::string out(20, '0');
  auto put = [&out](std::size_t at, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10)
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  out[4] = '-';
  put(5, static_cast<unsigned>(ymd.month()), 2);
  out[7] = '-';
  put(8, static_cast<unsigned>(ymd.day()), 2);
  out[10] = 'T';
  put(11, static_cast<unsigned>(hms.hours().count()), 2);
  out[13] = ':';
  put(14, static_cast<unsigned>(hms.minutes().count()), 2);
  out[16] = ':';
  put(17, static_cast<unsigned>(hms.seconds().count()), 2);
  out[19] = 'Z';
  return out;
}

std::string system_info_json(const SystemInfo& info, std::chrono::system_clock::time_point now) {
  json::array roles;
  for (const auto& role : info.roles) roles.emplace_back(role);
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - info.started_at).count();
  json::object body;
  body["name"] = "FactoryOps";
  body["version"] = info.version;
  body["roles"] = std::move(roles);
  body["metadata_backend"] = info.metadata_backend;
  body["started_at"] = format_rfc3339(info.started_at);
  body["uptime_seconds"] = uptime < 0 ? 0 : uptime;
  return json::serialize(body);
}

void register_system_routes(http::Router& router, const SystemRoutesDeps& deps) {
  if (deps.health == nullptr)
    throw std::invalid_argument("register_system_routes: health service is required");
  const HealthService* health = deps.health;
  core::metrics::Registry* registry =
      deps.metrics != nullptr ? deps.metrics : &core::metrics::Registry::global();

  registry->gauge("factoryops_build_info", "Always 1; the labels describe the running build.", {"version"})
      .labels({deps.info.version})
      .set(1);

  // Health answers from the cached report, so it is cheap enough for the I/O thread and stays
  // fast when the blocking pool is saturated, which is when probes matter most.
  router.add("GET", "/health", [health](const http::Request&) { return health->respond(); },
             {.on_io_thread = true, .summary = "Service health and the state of its dependencies"});

  // Reads /proc, so it runs on the blocking pool.
  router.add("GET", "/metrics",
             [registry](const http::Request&) {
               return http::Response::text(200, registry->expose() + core::metrics::process_metrics(),
                                           "text/plain; version=0.0.4; charset=utf-8");
             },
             {.summary = "Prometheus metrics"});

  // The document is parsed once, at registration, and carries the running version.
  auto document = core::find_resource("api/openapi.json");
  if (!document) throw std::logic_error("openapi.json is not embedded in this build");
  json::value openapi = json::parse(*document);
  openapi.as_object()["info"].as_object()["version"] = deps.info.version;
  router.add(
      "GET", "/api/v1/openapi.json",
      [body = json::serialize(openapi)](const http::Request&) { return http::Response::json(200, body); },
      {.on_io_thread = true, .summary = "This API's OpenAPI 3.1 description"});

  router.add("GET", "/api/v1/system/info",
             [info = deps.info](const http::Request&) {
               return http::Response::json(200, system_info_json(info, std::chrono::system_clock::now()));
             },
             {.on_io_thread = true, .summary = "Product name, version, roles and metadata backend"});
}

}  // namespace factoryops::api
