#include "api/live_routes.hpp"

#include <stdexcept>
#include <string_view>
#include <vector>

#include "api/secured.hpp"
#include "core/errors.hpp"
#include "http/error_mapper.hpp"
#include "live/protocol.hpp"

namespace factoryops::api {
namespace {

constexpr std::string_view kPath = "/api/v1/ws";

live::DeviceLookup device_lookup(devices::DeviceService& service) {
  return [&service](const core::FactoryId& factory, const std::vector<std::string>& ids) {
    std::vector<std::string> found;
    for (const auto& id : ids) {
      if (!core::is_valid_slug(id)) continue;
      if (service.repository().find(factory, core::DeviceId(id))) found.push_back(id);
    }
    return found;
  };
}

// Runs on the I/O thread before the handshake: only looks at the request.
http::WebSocketAccept accept_upgrade(const http::Request& request, const live::FeedDeps& feed,
                                     const http::WebSocketOptions& socket_options) {
  for (std::string_view name : {"token", "access_token"}) {
    if (request.query_param(name)) {
      return http::WebSocketAccept::refuse(http::error_response(
          400, "token_in_url",
          "the access token is never accepted in the URL (URLs end up in logs and browser history): "
          "offer it as the subprotocol 'bearer.<token>' or send {\"type\":\"auth\",\"token\":…} first",
          request.request_id, name));
    }
  }
  std::vector<std::string_view> offers;
  for (const auto& [name, value] : request.headers) {
    if (http::iequals(name, "Sec-WebSocket-Protocol")) offers.push_back(value);
  }
  auto offered = live::parse_subprotocols(offers);
  if (offered.any && !offered.v1) {
    return http::WebSocketAccept::refuse(http::error_response(
        400, "unsupported_subprotocol",
        "offer the subprotocol 'factoryops.v1' (and optionally 'bearer.<token>')", request.request_id));
  }

  http::WebSocketAccept accept;
  if (offered.v1) accept.subprotocol = std::string(live::kSubprotocol);
  accept.options = socket_options;
  accept.open = [feed, token = std::move(offered.token)](std::shared_ptr<http::WebSocket> socket) {
    return std::make_shared<live::FeedSession>(std::move(socket), feed, token);
  };
  return accept;
}

}  // namespace

void register_live_routes(http::Router& router, const auth::Authenticator& authenticator,
                          const LiveRoutesDeps& deps) {
  if (!deps.hub || deps.pool == nullptr || deps.devices == nullptr) {
    throw std::invalid_argument("register_live_routes: missing dependency");
  }
  live::FeedDeps feed;
  feed.hub = deps.hub;
  feed.authenticator = &authenticator;
  feed.pool = deps.pool;
  feed.devices = device_lookup(*deps.devices);
  feed.options = deps.feed;

  http::RouteOptions options;
  options.summary = "Live feed (WebSocket)";
  options.websocket = [feed, socket_options = deps.socket](const http::Request& request) {
    return accept_upgrade(request, feed, socket_options);
  };
  add_secured(
      router, authenticator, "GET", kPath, auth::Action::view_machines,
      [](const http::Request& request, const auth::FactoryContext&) {
        auto response =
            http::error_response(426, "upgrade_required",
                                 "this is a WebSocket endpoint: connect with 'Upgrade: websocket' "
                                 "(protocol in docs/api-live.md)",
                                 request.request_id);
        response.headers.set("Upgrade", "websocket");
        return response;
      },
      std::move(options));
}

}  // namespace factoryops::api
