// A small WebSocket client for tests (Beast): connects to 127.0.0.1, offers subprotocols,
// reads every message on its own thread into a queue the test waits on, and can stop reading
// to play a client that cannot keep up. Not for production use; one object per connection.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace factoryops::testing {

struct WebSocketClientOptions {
  std::string target = "/api/v1/ws";
  std::vector<std::string> subprotocols;  // sent as one Sec-WebSocket-Protocol field
  int receive_buffer_bytes = 0;           // SO_RCVBUF before connecting; 0: the system's
};

class WebSocketClient {
 public:
  WebSocketClient(int port, WebSocketClientOptions options = {});
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // True when the handshake succeeded.
  bool open() const;
  // When the upgrade was refused: the HTTP status and body (0 and "" when it was not refused).
  int refused_status() const;
  const std::string& refused_body() const;
  // The subprotocol the server selected ("" when none).
  const std::string& subprotocol() const;

  void send(std::string text);
  // The next message; nullopt when the connection ended first or `timeout` passed.
  std::optional<std::string> next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::optional<boost::json::object> next_json(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Skips messages of other types; nullopt as for next().
  std::optional<boost::json::object> next_of_type(
      const std::string& type, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends a ping message and waits for its pong: every message sent before has been handled.
  bool round_trip(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Waits for the server to end the connection. The close code is 1006 when it ended without a
  // close frame.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool closed() const;
  std::uint16_t close_code() const;
  std::string close_reason() const;

  // Stops reading from the socket (after the read in progress), so the peer's data piles up.
  void pause_reading();
  void resume_reading();
  // Messages received so far and not yet taken.
  std::size_t queued() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factoryops::testing
