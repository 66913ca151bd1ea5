#include "http/server.hpp"

#include <atomic>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "core/thread_pool.hpp"
#include "http/error_mapper.hpp"
#include "http/request_id.hpp"
#include "http/router.hpp"
#include "http/static_files.hpp"
#include "http/websocket_connection.hpp"

namespace factoryops::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// The peer went away, timed out, or the server closed the socket: nothing can be answered.
bool is_disconnect(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
         ec == beast::error::timeout || ec == asio::error::operation_aborted || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::bad_descriptor || ec == asio::error::not_connected;
}

// The request's method as a metric label; anything unusual collapses so labels stay bounded.
std::string_view method_label(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "OTHER";
}

struct Connection {
  explicit Connection(tcp::socket socket) : strand(socket.get_executor()), stream(std::move(socket)) {}
  // Kept apart from the stream, which an upgrade moves into the WebSocket connection.
  asio::any_io_executor strand;
  beast::tcp_stream stream;
  // Read and written only on the connection's strand: true while waiting for the first byte of
  // the next request; set once the connection has been upgraded to a WebSocket.
  bool idle = false;
  std::shared_ptr<WebSocketConnection> websocket;
};

void close_connection(Connection& connection) {
  if (connection.websocket) {
    shut_down_websocket(*connection.websocket, true);
    return;
  }
  boost::system::error_code ignored;
  connection.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  connection.stream.close();
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions opts, const Router& r, core::BlockingPool& p)
      : options(std::move(opts)),
        router(r),
        pool(p),
        request_duration(core::metrics::Registry::global().histogram(
            "api_request_duration_seconds",
            "Time from reading a request's first byte to sending its response.",
            {"method", "route", "status"})) {
    if (options.io_threads == 0) options.io_threads = 1;
    if (!options.static_dir.empty()) static_files.emplace(options.static_dir, options.spa_fallback);
  }

  awaitable<void> accept_loop();
  awaitable<void> session(std::shared_ptr<Connection> connection, std::uint64_t id);
  // Takes references, not values: g++ 12 destroys some temporaries of a co_await expression
  // twice, so callers pass named locals that outlive the await.
  awaitable<Response> run_blocking(std::function<Response()>& work, const std::string& request_id);
  awaitable<bool> write(Connection& connection, Response& response, unsigned version, bool head,
                        bool keep_alive, const std::string& request_id);
  // The route's answer to an upgrade request: a refusal to send, or nullopt once `connection`
  // has become a WebSocket (the HTTP exchange is then over).
  std::optional<Response> upgrade(Connection& connection, const RouteMatch& match, Request& request,
                                  bhttp::request_parser<bhttp::string_body>& parser);
  void unregister(std::uint64_t id);
  void close_connections(bool idle_only);

  ServerOptions options;
  const Router& router;
  core::BlockingPool& pool;
  core::metrics::HistogramFamily& request_duration;
  std::optional<StaticFiles> static_files;

  std::atomic<bool> stopping{false};
  std::atomic<std::uint16_t> bound_port{0};

  // Guards connections, started and stopped. Declared before the io_context so that coroutine
  // frames destroyed with it can still unregister.
  std::mutex mutex;
  std::condition_variable drained;
  std::map<std::uint64_t, std::weak_ptr<Connection>> connections;
  std::uint64_t next_id = 0;
  bool started = false;
  bool stopped = false;

  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_guard;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
};

void Server::Impl::unregister(std::uint64_t id) {
  std::lock_guard lock(mutex);
  connections.erase(id);
  if (connections.empty()) drained.notify_all();
}

void Server::Impl::close_connections(bool idle_only) {
  std::lock_guard lock(mutex);
  for (auto& [id, weak] : connections) {
    auto connection = weak.lock();
    if (!connection) continue;
    // Sockets are only touched on their own strand; the session checks `stopping` on the same
    // strand before going idle or upgrading, so no connection slips between the check and this
    // close. A WebSocket never becomes idle: it is asked to close (1001) at once.
    asio::post(connection->strand, [connection, idle_only] {
      if (idle_only && connection->websocket) {
        shut_down_websocket(*connection->websocket, false);
      } else if (!idle_only || connection->idle) {
        close_connection(*connection);
      }
    });
  }
}

awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    tcp::socket socket(asio::make_strand(ioc));
    auto [ec] = co_await acceptor->async_accept(socket, kNoThrow);
    if (stopping) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // Typically out of file descriptors: pause instead of spinning on the same error.
      log::warn("accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    auto connection = std::make_shared<Connection>(std::move(socket));
    std::uint64_t id = 0;
    {
      std::lock_guard lock(mutex);
      id = next_id++;
      connections.emplace(id, connection);
    }
    asio::co_spawn(connection->stream.get_executor(), session(connection, id), [](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        log::error("connection failed", {{"error", e.what()}});
      }
    });
  }
}

awaitable<Response> Server::Impl::run_blocking(std::function<Response()>& work,
                                               const std::string& request_id) {
  auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Response)>(
      [&](auto handler) {
        // std::function needs a copyable callable; the coroutine's handler is move-only.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto resume = [executor, shared](Response response) {
          // The handler resumes the coroutine where it is called: hop back to the connection's
          // strand rather than running the rest of the session on a pool thread.
          asio::post(executor, [shared, response = std::move(response)]() mutable {
            std::move (*shared)(std::move(response));
          });
        };
        bool queued = pool.try_submit([resume, work = std::move(work), request_id] {
          Response response;
          {
            log::RequestIdScope scope(request_id);
            try {
              response = work();
            } catch (...) {
              response = map_exception(std::current_exception(), request_id);
            }
          }
          resume(std::move(response));
        });
        if (!queued) {
          auto busy =
              error_response(core::ErrorKind::unavailable, "the server is busy, retry shortly", request_id);
          busy.headers.set("Retry-After", "1");
          resume(std::move(busy));
        }
      },
      asio::use_awaitable);
}

awaitable<bool> Server::Impl::write(Connection& connection, Response& response, unsigned version, bool head,
                                    bool keep_alive, const std::string& request_id) {
  // The message only points at the body: `response` outlives the write, and a page shared with
  // a cache goes to the socket from where it lies instead of being copied per request.
  bhttp::response<bhttp::span_body<const char>> message;
  message.version(version == 10 ? 10 : 11);
  message.result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers) message.insert(name, value);
  message.set(bhttp::field::server, "factoryops");
  message.set("X-Request-ID", request_id);
  message.keep_alive(keep_alive);
  const std::string_view body = response.body_text();
  if (head) {
    // HEAD announces the length of the body GET would send, and sends none.
    if (response.status != 204 && response.status != 304) message.content_length(body.size());
  } else {
    message.body() = beast::span<const char>(body.data(), body.size());
    message.prepare_payload();
  }
  connection.stream.expires_after(options.read_timeout);
  auto [ec, written] = co_await bhttp::async_write(connection.stream, message, kNoThrow);
  co_return !ec;
}

std::optional<Response> Server::Impl::upgrade(Connection& connection, const RouteMatch& match,
                                              Request& request,
                                              bhttp::request_parser<bhttp::string_body>& parser) {
  if (stopping) {
    return error_response(core::ErrorKind::unavailable, "the server is shutting down", request.request_id);
  }
  request.path_params = match.path_params;
  request.route_template = match.route_template;
  WebSocketAccept accept;
  {
    log::RequestIdScope scope(request.request_id);
    try {
      accept = match.options->websocket(request);
    } catch (...) {
      return map_exception(std::current_exception(), request.request_id);
    }
  }
  if (accept.refusal) return std::move(*accept.refusal);
  if (!accept.open) return error_response(core::ErrorKind::internal, "internal error", request.request_id);
  connection.websocket = make_websocket_connection(std::move(connection.stream), parser.release(),
                                                   std::move(request), std::move(accept));
  return std::nullopt;
}

awaitable<void> Server::Impl::session(std::shared_ptr<Connection> connection, std::uint64_t id) {
  struct Unregister {
    Impl& impl;
    std::uint64_t id;
    ~Unregister() { impl.unregister(id); }
  } unregister_on_exit{*this, id};

  std::string remote;
  {
    boost::system::error_code ec;
    auto endpoint = connection->stream.socket().remote_endpoint(ec);
    if (!ec) remote = endpoint.address().to_string();
  }
  beast::flat_buffer buffer;

  for (;;) {
    if (buffer.size() == 0) {
      connection->idle = true;
      if (stopping) break;
      connection->stream.expires_after(options.idle_timeout);
      auto [ec, n] = co_await connection->stream.async_read_some(buffer.prepare(4096), kNoThrow);
      connection->idle = false;
      if (ec) break;
      buffer.commit(n);
    }
    const auto started_at = Clock::now();

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    // The body limit depends on the route, known only after the header: lift Beast's default
    // for the header phase (it would reject a large Content-Length as a header error) and set
    // the real limit before reading the body.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    connection->stream.expires_after(options.read_timeout);
    auto [header_ec, header_bytes] =
        co_await bhttp::async_read_header(connection->stream, buffer, parser, kNoThrow);

    Request request;
    Response response;
    bool responded = false;  // `response` is final; skip routing
    bool close_after = false;
    std::string route_label = "unmatched";
    unsigned version = 11;

    if (header_ec) {
      if (is_disconnect(header_ec)) break;
      request.request_id = generate_request_id();
      if (header_ec == bhttp::error::header_limit) {
        response = error_response(431, "header_too_large", "request header fields are too large",
                                  request.request_id);
      } else {
        response = error_response(core::ErrorKind::malformed_request,
                                  "malformed HTTP request: " + header_ec.message(), request.request_id);
      }
      responded = true;
      close_after = true;
    } else {
      const auto& header = parser.get();
      version = header.version();
      request.method = std::string(header.method_string());
      request.target = std::string(header.target());
      for (const auto& field : header) request.headers.add(field.name_string(), field.value());
      request.remote_address = remote;
      request.request_id = request_id_from(request.headers.get("X-Request-ID"));
      close_after = !header.keep_alive();
    }

    const bool head = request.method == "HEAD";
    RouteMatch match;
    enum class Target { route, static_file, none } target = Target::none;
    if (!responded) {
      if (!parse_target(request.target, request.path, request.query)) {
        response =
            error_response(core::ErrorKind::malformed_request, "invalid request target", request.request_id);
        responded = true;
        close_after = true;
      } else {
        auto raw_path = target_path(request.target);
        match = router.match(request.method, raw_path);
        bool api_path = raw_path == "/api" || raw_path.starts_with("/api/");
        bool docs_path = raw_path == "/api/docs" || raw_path == "/api/docs/";
        if (match.outcome == RouteMatch::Outcome::found) {
          target = Target::route;
          route_label = match.route_template;
        } else if (static_files && (request.method == "GET" || head) && (!api_path || docs_path) &&
                   match.outcome == RouteMatch::Outcome::not_found) {
          target = Target::static_file;
          route_label = "static";
        } else {
          response = Router::unmatched_response(match, request);
          responded = true;
        }
      }
    }

    // Read the body even when the answer is already known, so the connection stays usable.
    if (!parser.is_done() && !(responded && close_after)) {
      std::size_t limit = options.body_limit_bytes;
      if (target == Target::route && match.options->body_limit != 0) limit = match.options->body_limit;
      auto announced = parser.content_length();
      if (announced && *announced > limit) {
        // To prevent abuse, refuse before receiving a byte of an announced oversized body.
        response =
            error_response(core::ErrorKind::payload_too_large,
                           "request body exceeds " + std::to_string(limit) + " bytes", request.request_id);
        responded = true;
        close_after = true;
      } else {
        auto expect = parser.get()[bhttp::field::expect];
        if (iequals(expect, "100-continue")) {
          bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, version};
          connection->stream.expires_after(options.read_timeout);
          auto [ec, n] = co_await bhttp::async_write(connection->stream, go_on, kNoThrow);
          if (ec) break;
        }
        parser.body_limit(limit);
        connection->stream.expires_after(options.read_timeout);
        auto [body_ec, body_bytes] = co_await bhttp::async_read(connection->stream, buffer, parser, kNoThrow);
        if (body_ec == bhttp::error::body_limit) {
          response =
              error_response(core::ErrorKind::payload_too_large,
                             "request body exceeds " + std::to_string(limit) + " bytes", request.request_id);
          responded = true;
          close_after = true;
        } else if (body_ec) {
          if (is_disconnect(body_ec)) break;
          response = error_response(core::ErrorKind::malformed_request,
                                    "malformed HTTP request body: " + body_ec.message(), request.request_id);
          responded = true;
          close_after = true;
        }
      }
    }

    if (!responded && target == Target::route && match.options->websocket &&
        beast::websocket::is_upgrade(parser.get())) {
      auto refusal = upgrade(*connection, match, request, parser);
      if (!refusal) {
        // By reference: g++ 12 may destroy a temporary of a co_await expression twice.
        co_await run_websocket(*connection->websocket);
        co_return;
      }
      response = std::move(*refusal);
      responded = true;
      route_label = match.route_template;
    }

    if (!responded) {
      request.body = std::move(parser.get().body());
      if (target == Target::route) {
        request.path_params = std::move(match.path_params);
        request.route_template = match.route_template;
        const Handler& handler = *match.handler;
        if (match.options->on_io_thread) {
          log::RequestIdScope scope(request.request_id);
          try {
            response = handler(request);
          } catch (...) {
            response = map_exception(std::current_exception(), request.request_id);
          }
        } else {
          std::optional<Response> quick;
          if (match.options->io_attempt) {
            log::RequestIdScope scope(request.request_id);
            try {
              quick = match.options->io_attempt(request);
            } catch (...) {
              quick = map_exception(std::current_exception(), request.request_id);
            }
          }
          if (quick) {
            response = std::move(*quick);
          } else {
            // The request lives in this coroutine frame, which stays suspended until the pool is done.
            std::function<Response()> work = [&handler, &request] { return handler(request); };
            response = co_await run_blocking(work, request.request_id);
          }
        }
      } else {
        std::function<Response()> work = [this, raw_path = std::string(target_path(request.target)),
                                          id = request.request_id] {
          return static_files->serve(raw_path, id);
        };
        response = co_await run_blocking(work, request.request_id);
      }
    }

    const int status = response.status;
    const std::size_t bytes = response.body_text().size();
    const bool keep_alive = !close_after && !stopping;
    const bool written = co_await write(*connection, response, version, head, keep_alive, request.request_id);

    const double seconds = std::chrono::duration<double>(Clock::now() - started_at).count();
    const auto status_text = std::to_string(status);
    request_duration.labels({method_label(request.method), route_label, status_text}).observe(seconds);
    {
      log::RequestIdScope scope(request.request_id);
      // The route template, never the raw target: query values and ids stay out of the log.
      log::info("http request", {{"method", std::string(method_label(request.method))},
                                 {"route", route_label},
                                 {"status", status},
                                 {"duration_ms", seconds * 1000.0},
                                 {"bytes", static_cast<std::uint64_t>(bytes)},
                                 {"remote", remote}});
    }
    if (!written || !keep_alive) break;
  }

  boost::system::error_code ignored;
  connection->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  connection->stream.close();
}

Server::Server(ServerOptions options, const Router& router, core::BlockingPool& pool)
    : impl_(std::make_unique<Impl>(std::move(options), router, pool)) {}

Server::~Server() {
  if (impl_) stop(std::chrono::seconds(1));
}

void Server::start() {
  auto& s = *impl_;
  {
    std::lock_guard lock(s.mutex);
    if (s.started) throw std::logic_error("Server::start called twice");
    s.started = true;
  }
  const std::string where = s.options.address + ":" + std::to_string(s.options.port);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": invalid address");
  tcp::endpoint endpoint(address, s.options.port);

  s.acceptor.emplace(asio::make_strand(s.ioc));
  auto& acceptor = *s.acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string reason = ec == asio::error::address_in_use ? "the port is already in use" : ec.message();
    throw std::runtime_error("cannot listen on " + where + ": " + reason);
  }
  s.bound_port = acceptor.local_endpoint().port();

  s.work_guard.emplace(s.ioc.get_executor());
  asio::co_spawn(acceptor.get_executor(), s.accept_loop(), [](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log::error("accept loop failed", {{"error", e.what()}});
    }
  });
  for (std::size_t i = 0; i < s.options.io_threads; ++i) {
    s.threads.emplace_back([&s] {
      for (;;) {
        try {
          s.ioc.run();
          return;
        } catch (const std::exception& e) {
          log::error("I/O thread caught an exception", {{"error", e.what()}});
        }
      }
    });
  }
  log::info("http server listening",
            {{"address", s.options.address}, {"port", static_cast<int>(s.bound_port)}});
}

std::uint16_t Server::port() const {
  return impl_->bound_port;
}

void Server::stop(std::chrono::milliseconds grace) {
  auto& s = *impl_;
  {
    std::lock_guard lock(s.mutex);
    if (!s.started || s.stopped) return;
    s.stopped = true;
  }
  s.stopping = true;
  asio::post(s.acceptor->get_executor(), [&s] {
    boost::system::error_code ignored;
    s.acceptor->close(ignored);
  });
  s.close_connections(true);

  std::unique_lock lock(s.mutex);
  if (!s.drained.wait_for(lock, grace, [&s] { return s.connections.empty(); })) {
    log::warn("closing connections still busy after the grace period",
              {{"connections", static_cast<std::uint64_t>(s.connections.size())}});
    lock.unlock();
    s.close_connections(false);
    lock.lock();
    // A session waiting for a pool task ends only when the task returns; its frame refers to the
    // router and the request, so it must finish before the io_context goes away.
    while (!s.drained.wait_for(lock, std::chrono::seconds(5), [&s] { return s.connections.empty(); })) {
      log::warn("waiting for request handlers to return",
                {{"connections", static_cast<std::uint64_t>(s.connections.size())}});
    }
  }
  lock.unlock();

  s.work_guard.reset();
  s.ioc.stop();
  for (auto& thread : s.threads) {
    if (thread.joinable()) thread.join();
  }
  s.threads.clear();
  log::info("http server stopped");
}

}  // namespace factoryops::http
