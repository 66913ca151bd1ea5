#include "api/ingest_routes.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <stdexcept>

#include "api/identity_json.hpp"
#include "api/secured.hpp"
#include "core/errors.hpp"
#include "db/clock.hpp"
#include "http/error_mapper.hpp"

namespace factoryops::api {
namespace {
namespace json = boost::json;

// One message for a missing, unknown or disabled key, so a caller learns nothing about keys.
constexpr std::string_view kBadKey = "a valid device key is required (Authorization: Device <key>)";

std::string_view presented_key(const http::Request& request) {
  if (auto header = request.headers.get("Authorization")) {
    std::string_view value = *header;
    constexpr std::string_view kScheme = "Device ";
    if (value.size() > kScheme.size() && http::iequals(value.substr(0, kScheme.size()), kScheme)) {
      value.remove_prefix(kScheme.size());
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      return value;
    }
  }
  if (auto header = request.headers.get("X-Device-Key")) return *header;
  return {};
}

json::object issue_json(const ingest::Issue& issue) {
  json::object o;
  o["index"] = issue.index;
  if (issue.field) {
    o["field"] = *issue.field;
  } else {
    o["field"] = nullptr;
  }
  o["reason"] = ingest::reason_name(issue.reason);
  o["message"] = issue.message;
  return o;
}

http::Response ingest(const IngestRoutesDeps& deps, const http::Request& request) {
  auto key = presented_key(request);
  std::optional<devices::KeyOwner> owner;
  if (!key.empty()) owner = deps.keys->find(key);
  if (!owner || !owner->is_enabled) throw core::Unauthorized(std::string(kBadKey));

  auto outcome = deps.pipeline->ingest(owner->factory_id, owner->device_id, request.body, db::now_ms());
  if (outcome.refused) {
    return http::error_response(
        400, "invalid_payload",
        std::string(ingest::reason_name(outcome.refused->reason)) + ": " + outcome.refused->message,
        request.request_id);
  }
  json::array errors;
  errors.reserve(outcome.errors.size());
  for (const auto& issue : outcome.errors) errors.emplace_back(issue_json(issue));
  json::object body;
  body["accepted"] = outcome.accepted;
  body["rejected"] = outcome.rejected;
  body["dropped_fields"] = outcome.dropped_fields;
  body["errors"] = std::move(errors);
  return json_response(202, body);
}

}  // namespace

void register_ingest_routes(http::Router& router, const auth::Authenticator& authenticator,
                            const IngestRoutesDeps& deps) {
  if (deps.pipeline == nullptr || deps.keys == nullptr || deps.rejections == nullptr ||
      deps.devices == nullptr)
    throw std::invalid_argument("register_ingest_routes: every dependency is required");

  router.add("POST", "/api/v1/ingest", [deps](const http::Request& request) { return ingest(deps, request); },
             {.body_limit = ingest::kMaxPayloadBytes,
              .summary = "Post readings as a device",
              .access = std::string(kDeviceAccess)});

  add_secured(router, authenticator, "GET", "/api/v1/devices/{device_id}/ingest-errors",
              auth::Action::view_machines,
              [deps](const http::Request& request, const auth::FactoryContext& context) {
                // get() answers 404 for an unknown device and for one of another factory.
                auto device = deps.devices->get(context, request.path_param("device_id"));
                json::array items;
                for (const auto& r : deps.rejections->recent(context.factory_id, device.device_id)) {
                  items.emplace_back(json::object{{"received_at", format_timestamp_ms(r.received_at_ms)},
                                                  {"reason", r.reason},
                                                  {"message", r.message},
                                                  {"payload", r.payload_head}});
                }
                return json_response(200, json::object{{"items", std::move(items)}});
              },
              {.summary = "The device's last rejected payloads"});
}

}  // namespace factoryops::api
