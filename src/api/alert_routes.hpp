// HTTP routes of alerts (docs/api-alerts.md): the filtered list, counts for the dashboard, one
// alert with its notification log, acknowledge and resolve. Any signed-in admin of the factory
// (Action::view_dashboard); another factory's alert answers 404.
#pragma once

#include <boost/json/object.hpp>

#include "alerts/alert_service.hpp"
#include "auth/authenticator.hpp"
#include "http/router.hpp"

namespace factoryops::api {

// The alert as the API and the live feed show it.
boost::json::object alert_json(const alerts::Alert& alert);

// The router keeps references: `authenticator` and `alerts` must outlive it.
void register_alert_routes(http::Router& router, const auth::Authenticator& authenticator,
                           alerts::AlertService& alerts);

}  // namespace factoryops::api
