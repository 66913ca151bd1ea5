#include "api/secured.hpp"

#include "core/logging.hpp"

namespace factoryops::api {

void add_secured(http::Router& router, const auth::Authenticator& authenticator, std::string_view method,
                 std::string_view path_template, auth::Action action, SecuredHandler handler,
                 http::RouteOptions options) {
  options.access = std::string(auth::action_name(action));
  // Authentication always runs on the blocking pool: it reads the metadata store.
  options.on_io_thread = false;
  router.add(
      method, path_template,
      [&authenticator, action, handler = std::move(handler)](const http::Request& request) {
        auth::FactoryContext context = authenticator.authenticate(request);
        context.request_id = request.request_id;
        context.ip = request.remote_address;
        context.require(action);
        return handler(request, context);
      },
      std::move(options));
}

void add_secured(http::Router& router, const auth::Authenticator& authenticator, std::string_view method,
                 std::string_view path_template, auth::Action action, SecuredHandler handler,
                 MemoryHandler from_memory, http::RouteOptions options) {
  options.io_attempt = [&authenticator, action, from_memory = std::move(from_memory)](
                           const http::Request& request) -> std::optional<http::Response> {
    auto context = authenticator.authenticate_from_memory(request);
    if (!context) return std::nullopt;
    context->request_id = request.request_id;
    context->ip = request.remote_address;
    context->require(action);
    return from_memory(request, *context);
  };
  add_secured(router, authenticator, method, path_template, action, std::move(handler), std::move(options));
}

}  // namespace factoryops::api
