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

}  // namespace factoryops::api
