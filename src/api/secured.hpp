// Registers routes that need a signed-in caller: authenticate, check the action against the
// policy table, then call the handler with the caller's FactoryContext. Every tenant route
// goes through here, so the route table records who may call each route (RouteOptions::access).
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "auth/authenticator.hpp"
#include "auth/context.hpp"
#include "http/router.hpp"

namespace factoryops::api {

using SecuredHandler = std::function<http::Response(const http::Request&, const auth::FactoryContext&)>;

void add_secured(http::Router& router, const auth::Authenticator& authenticator, std::string_view method,
                 std::string_view path_template, auth::Action action, SecuredHandler handler,
                 http::RouteOptions options = {});

// An answer that may be ready in memory (a cached page): nullopt means "not ready, run the
// handler". Must never block.
using MemoryHandler =
    std::function<std::optional<http::Response>(const http::Request&, const auth::FactoryContext&)>;

// As above, and first tries `from_memory` on the network thread when the caller can be
// authenticated from memory too, saving the hop to the blocking pool.
void add_secured(http::Router& router, const auth::Authenticator& authenticator, std::string_view method,
                 std::string_view path_template, auth::Action action, SecuredHandler handler,
                 MemoryHandler from_memory, http::RouteOptions options = {});

}  // namespace factoryops::api
