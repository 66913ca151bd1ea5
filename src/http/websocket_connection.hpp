// The server side of one upgraded WebSocket connection, used by the Server only (it includes
// Beast). Owns the stream; runs the read loop and a writer that drains the bounded outbound
// queue, both on the connection's strand. Lives while its run() coroutine or a handle runs.
#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/websocket.hpp"

namespace factoryops::http {

class WebSocketConnection;

// Takes over `stream` (whose HTTP exchange ends with `upgrade`) for the session `accept` opens.
std::shared_ptr<WebSocketConnection> make_websocket_connection(
    boost::beast::tcp_stream stream, boost::beast::http::request<boost::beast::http::string_body> upgrade,
    Request request, WebSocketAccept accept);

// Completes the handshake, then serves the connection until it ends. Run it on the stream's
// strand; `connection` must be owned by a shared_ptr.
boost::asio::awaitable<void> run_websocket(WebSocketConnection& connection);

// For server shutdown, from the connection's strand: a 1001 close, or with `force` the socket is
// closed at once.
void shut_down_websocket(WebSocketConnection& connection, bool force);

}  // namespace factoryops::http
