// The telemetry ingest routes (docs/api-telemetry.md): POST /api/v1/ingest, authenticated by
// the device's API key, and GET /api/v1/devices/{device_id}/ingest-errors for people. Handlers
// translate HTTP to IngestPipeline and RejectionLog calls. Everything named in IngestRoutesDeps
// must outlive the router.
#pragma once

#include "auth/authenticator.hpp"
#include "devices/device_service.hpp"
#include "http/router.hpp"
#include "ingest/device_keys.hpp"
#include "ingest/pipeline.hpp"
#include "ingest/rejection_log.hpp"

namespace factoryops::api {

// The access label of routes authenticated by a device key instead of a user's token.
constexpr std::string_view kDeviceAccess = "device";

struct IngestRoutesDeps {
  ingest::IngestPipeline* pipeline = nullptr;
  ingest::DeviceKeyCache* keys = nullptr;
  ingest::RejectionLog* rejections = nullptr;
  devices::DeviceService* devices = nullptr;
};

// Throws std::invalid_argument when a dependency is null.
void register_ingest_routes(http::Router& router, const auth::Authenticator& authenticator,
                            const IngestRoutesDeps& deps);

}  // namespace factoryops::api
