// WebSocket routes: the contract between the Server, which performs the upgrade and owns each
// connection (framing, the incoming size limit, keepalive pings, a bounded outbound queue, the
// close handshake, 1001 on shutdown), and the application, which sees whole messages.
// WebSocket handles are thread-safe; a session's callbacks run one at a time on its connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/types.hpp"

namespace factoryops::http {

// One open connection as the application sees it. Every member may be called from any thread
// and never blocks; once the connection has ended they do nothing. Lives as long as its last
// shared_ptr.
class WebSocket {
 public:
  virtual ~WebSocket() = default;

  // Queues one text message. False, and nothing queued, when the outbound queue is at its bound
  // (WebSocketOptions) or the connection is closing: the caller decides what a full queue means.
  virtual bool send(std::string text) = 0;

  // Discards queued messages and starts the closing handshake with `code` and `reason` (cut to
  // 123 bytes). The TCP connection ends when the peer answers, or after close_timeout.
  virtual void close(std::uint16_t code, std::string reason) = 0;

  // Runs `task` on the connection (where the session's callbacks run, never concurrently with
  // them) once `delay` has passed, unless the connection ended before: then `task` is dropped.
  virtual void post(std::function<void()> task, std::chrono::milliseconds delay = {}) = 0;

  // The upgrade request (headers, remote address, request id). Immutable.
  virtual const Request& request() const = 0;
};

// The application's side of one connection. The server calls on_open once after the handshake,
// on_message for each whole incoming message, and on_close once when the connection has ended
// for any reason; all on the connection's strand, one at a time.
class WebSocketSession {
 public:
  virtual ~WebSocketSession() = default;
  virtual void on_open() = 0;
  virtual void on_message(std::string_view text) = 0;
  virtual void on_close() = 0;
};

struct WebSocketOptions {
  // A larger incoming message closes the connection with 1009 (message too big).
  std::size_t max_message_bytes = 16 * 1024;
  // Outbound queue bound: send() refuses once either is reached.
  std::size_t max_queued_messages = 256;
  std::size_t max_queued_bytes = 1024 * 1024;
  // After this long without a frame from the peer the server pings; after twice this it closes.
  std::chrono::milliseconds ping_interval{30'000};
  // How long the closing handshake (and the opening one) may take before the socket is closed.
  std::chrono::milliseconds handshake_timeout{5'000};
};

// What to do with an upgrade request.
struct WebSocketAccept {
  // Set: answer with this response and do not upgrade.
  std::optional<Response> refusal{};
  // Selected subprotocol, sent in Sec-WebSocket-Protocol; empty: none.
  std::string subprotocol{};
  WebSocketOptions options{};
  // Creates the application's session once the handshake has succeeded.
  std::function<std::shared_ptr<WebSocketSession>(std::shared_ptr<WebSocket>)> open{};

  static WebSocketAccept refuse(Response response) {
    WebSocketAccept accept;
    accept.refusal = std::move(response);
    return accept;
  }
};

// Decides on a GET that asks to upgrade. Runs on the I/O thread: must not block. Throwing a
// core::Error answers with the mapped error response.
using WebSocketHandler = std::function<WebSocketAccept(const Request&)>;

}  // namespace factoryops::http
