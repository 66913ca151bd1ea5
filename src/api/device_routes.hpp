// The machine registry's HTTP routes (docs/api-identity.md, "Machines"): /api/v1/devices,
// /api/v1/devices/{device_id}, its rotate-key and parameters. Handlers only translate JSON
// to DeviceService calls and back. The authenticator and the service must outlive the router.
#pragma once

#include <boost/json/object.hpp>

#include "auth/authenticator.hpp"
#include "devices/device_repository.hpp"
#include "devices/device_service.hpp"
#include "http/router.hpp"

namespace factoryops::api {

void register_device_routes(http::Router& router, const auth::Authenticator& authenticator,
                            devices::DeviceService& service);

// The API shape of a machine and of one of its parameters.
boost::json::object device_json(const devices::Device& device, boost::json::storage_ptr storage = {});
boost::json::object parameter_json(const devices::DeviceParameter& parameter);

}  // namespace factoryops::api
