// The live feed route (docs/api-live.md): GET /api/v1/ws upgrades to a WebSocket served by a
// live::FeedSession over the LiveHub; a plain GET answers 426. The authenticator, the pool and
// the device service must outlive the router; the hub is shared with the ingest pipeline.
#pragma once

#include <memory>

#include "auth/authenticator.hpp"
#include "devices/device_service.hpp"
#include "http/router.hpp"
#include "live/feed_session.hpp"
#include "live/hub.hpp"

namespace factoryops::core {
class BlockingPool;
}

namespace factoryops::api {

struct LiveRoutesDeps {
  std::shared_ptr<live::LiveHub> hub;
  core::BlockingPool* pool = nullptr;
  devices::DeviceService* devices = nullptr;
  live::FeedOptions feed{};
  http::WebSocketOptions socket{};
};

// Throws std::invalid_argument when a dependency is null.
void register_live_routes(http::Router& router, const auth::Authenticator& authenticator,
                          const LiveRoutesDeps& deps);

}  // namespace factoryops::api
