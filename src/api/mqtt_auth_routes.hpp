// The broker's questions (docs/mqtt-emqx.md): POST /internal/mqtt/authn and /internal/mqtt/authz
// in EMQX 5's HTTP authentication and authorization format, guarded by a shared secret. They
// are not part of the public API (no /api/v1 prefix, not in openapi.json). The routes own their
// MqttAcl; the DeviceKeyCache must outlive the router.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/router.hpp"
#include "ingest/device_keys.hpp"

namespace factoryops::api {

// The access label of routes only the MQTT broker calls, with the shared secret.
constexpr std::string_view kBrokerAccess = "broker";

// Largest body accepted: EMQX's rendered template (a topic, a key, a client id).
constexpr std::size_t kMqttAuthBodyLimit = 16 * 1024;

struct MqttAuthRoutesDeps {
  ingest::DeviceKeyCache* keys = nullptr;
  // What EMQX sends as "Authorization: Bearer <secret>". Empty: the routes are not registered,
  // so they answer 404 like any unknown path.
  std::string secret{};
  std::string telemetry_username{};  // the telemetry role's broker credential
  std::string telemetry_password{};
};

// Throws std::invalid_argument when `deps.keys` is null and a secret is set.
void register_mqtt_auth_routes(http::Router& router, const MqttAuthRoutesDeps& deps);

}  // namespace factoryops::api
