// The telemetry read routes of docs/api-telemetry.md: device queries (JSON or CSV), latest
// values, the multi-device form, storage usage and the retention settings. Handlers only turn
// query strings and bodies into TelemetryQueryService calls and answers into JSON or CSV. The
// authenticator and the service must outlive the router.
#pragma once

#include "auth/authenticator.hpp"
#include "http/router.hpp"
#include "tsdb/telemetry_query_service.hpp"

namespace factoryops::api {

void register_telemetry_routes(http::Router& router, const auth::Authenticator& authenticator,
                               tsdb::TelemetryQueryService& service);

}  // namespace factoryops::api
