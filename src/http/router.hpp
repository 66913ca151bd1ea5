// Router: the table of (method, path template) -> handler for the whole HTTP API. Routes are
// added while the application starts, before any request; after that the router is read-only
// and match()/handle() are safe from any thread. Lives as long as the Server that uses it.
//
// Templates are literal segments and whole-segment parameters: "/api/v1/devices/{device_id}".
// Trailing slashes are significant: "/health/" does not match "/health" (one canonical URL
// per resource; the 404 tells a client its URL is wrong instead of silently aliasing it).
// A literal segment beats a parameter at the same position ("/devices/search" wins over
// "/devices/{id}"). HEAD is answered by the GET route unless a HEAD route exists.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/types.hpp"
#include "http/websocket.hpp"

namespace factoryops::http {

// Handlers throw core::Error subclasses for expected failures; the error mapper answers them.
using Handler = std::function<Response(const Request&)>;

struct RouteOptions {
  // Cheap, never-blocking handlers (a cached /health) may run on the I/O thread; all others
  // run on the blocking pool.
  bool on_io_thread = false;
  // Largest accepted request body in bytes; 0 means the server's default.
  std::size_t body_limit = 0;
  std::string summary{};  // an initializer keeps designated-initializer call sites warning-free
  // Who may call the route: "public", or the auth::Action a caller must be allowed
  // (api/secured.hpp sets it). Read by the isolation tests and the OpenAPI check.
  std::string access = "public";
  // For pool routes: tried first on the I/O thread. An answer is sent at once, saving the hop
  // to the pool (a page served from memory); nullopt sends the request to the pool as usual.
  // Must never block.
  std::function<std::optional<Response>(const Request&)> io_attempt{};
  // For WebSocket routes (GET only): a request that asks to upgrade goes here instead of to the
  // handler, which then answers plain GETs (426 Upgrade Required).
  WebSocketHandler websocket{};
};

struct RouteEntry {
  std::string method;
  std::string path_template;
  RouteOptions options;
};

struct RouteMatch {
  enum class Outcome { found, method_not_allowed, not_found };
  Outcome outcome = Outcome::not_found;
  const Handler* handler = nullptr;       // set when found
  const RouteOptions* options = nullptr;  // set when found
  std::string route_template;             // set when found
  std::map<std::string, std::string> path_params;
  std::string allow;  // for method_not_allowed: "GET, HEAD, POST"
};

class Router {
 public:
  // Throws std::invalid_argument for a malformed template or method, and std::logic_error when
  // the same method and template shape (parameter names aside) is already registered.
  void add(std::string_view method, std::string_view path_template, Handler handler,
           RouteOptions options = {});

  // `raw_path` is the still-encoded path of the request target (without the query); each
  // segment is decoded on its own, so an encoded "/" stays inside one parameter.
  RouteMatch match(std::string_view method, std::string_view raw_path) const;

  // Matches `request` (method, target), fills path_params and route_template, runs the handler
  // inline and maps any error. For callers that do not need to move work between threads.
  Response handle(Request& request) const;

  // The 404 or 405 (with Allow) JSON error for a match that found no handler.
  static Response unmatched_response(const RouteMatch& match, const Request& request);

  // Registered routes in registration order (for the OpenAPI conformance test).
  std::vector<RouteEntry> routes() const;

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter name
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::string path_template;
    std::vector<Segment> segments;
    Handler handler;
    RouteOptions options;
  };

  std::vector<Route> routes_;
};

// The path part (before '?') of a raw request target.
std::string_view target_path(std::string_view target);

}  // namespace factoryops::http
