// Server: the HTTP/1.1 listener (keep-alive, pipelined requests handled in order, limits and
// timeouts on every read), request ids, access log, request metrics, dispatch to the Router
// and the built web app. start()/stop()/port() are safe from any thread; one Server object
// serves from start() until stop() or destruction. The Router and BlockingPool must outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace factoryops::core {
class BlockingPool;
}

namespace factoryops::http {

class Router;

struct ServerOptions {
  std::string address = "0.0.0.0";
  std::uint16_t port = 8000;  // 0: any free port (see Server::port())
  std::size_t io_threads = 1;
  std::size_t body_limit_bytes = 1024 * 1024;      // per-route RouteOptions::body_limit overrides it
  std::size_t header_limit = 16 * 1024;            // request line and header fields, in bytes
  std::chrono::milliseconds read_timeout{30'000};  // to receive one whole request, or send a response
  std::chrono::milliseconds idle_timeout{60'000};  // between requests on a keep-alive connection
  std::string static_dir;                          // the built SPA (frontend/dist); empty: no static files
  bool spa_fallback = true;                        // unknown extension-less paths serve index.html
};

class Server {
 public:
  Server(ServerOptions options, const Router& router, core::BlockingPool& pool);
  ~Server();  // stops with a short grace period if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the I/O threads. Throws std::runtime_error naming the address
  // when the port cannot be bound (e.g. already in use).
  void start();

  // The bound port (the real one when ServerOptions::port was 0); 0 before start().
  std::uint16_t port() const;

  // Stops accepting, closes idle keep-alive connections, lets requests in flight finish for up
  // to `grace`, then closes whatever remains and returns once every thread is joined. A handler
  // already running on the blocking pool is always waited for (it cannot be interrupted).
  // Call it from an application thread, never from a handler (it joins the I/O threads).
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factoryops::http
