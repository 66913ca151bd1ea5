// WebSocket routes on the real Server with a Beast client: the upgrade hook (refusal, selected
// subprotocol, plain GETs left to the handler), whole messages both ways, delayed tasks, the
// bounded outbound queue, the size limit (1009) and the 1001 close when the server stops.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "core/thread_pool.hpp"
#include "http/error_mapper.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace factoryops::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using namespace std::chrono_literals;

// Echoes text; "flood" tries to queue 100 messages at once; "bye" closes with 4000; "later"
// answers 100 ms later through post().
class EchoSession : public WebSocketSession {
 public:
  EchoSession(std::shared_ptr<WebSocket> socket, std::atomic<int>& accepted)
      : socket_(std::move(socket)), accepted_(accepted) {}
  void on_open() override { socket_->send("hello " + socket_->request().path); }
  void on_message(std::string_view text) override {
    if (text == "flood") {
      for (int i = 0; i < 100; ++i) {
        if (socket_->send("flood " + std::to_string(i))) ++accepted_;
      }
    } else if (text == "bye") {
      socket_->close(4000, "bye");
    } else if (text == "later") {
      auto socket = socket_;
      socket_->post([socket] { socket->send("later"); }, 100ms);
    } else {
      socket_->send(std::string(text));
    }
  }
  void on_close() override {}

 private:
  std::shared_ptr<WebSocket> socket_;
  std::atomic<int>& accepted_;
};

class Client {
 public:
  explicit Client(std::uint16_t port, const std::string& target = "/ws", const std::string& protocols = "") {
    beast::get_lowest_layer(ws_).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ::timeval tv{5, 0};
    ::setsockopt(beast::get_lowest_layer(ws_).socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv,
                 sizeof tv);
    ws_.set_option(websocket::stream_base::decorator([protocols](websocket::request_type& req) {
      if (!protocols.empty()) req.set(beast::http::field::sec_websocket_protocol, protocols);
    }));
    beast::error_code ec;
    ws_.handshake(response_, "127.0.0.1", target, ec);
    open_ = !ec;
  }
  bool open() const { return open_; }
  const websocket::response_type& response() const { return response_; }
  void send(const std::string& text) { ws_.write(asio::buffer(text)); }
  // The next message, or "" with `ec` set when the connection ended.
  std::string read(beast::error_code& ec) {
    beast::flat_buffer buffer;
    ws_.read(buffer, ec);
    return beast::buffers_to_string(buffer.data());
  }
  std::string read() {
    beast::error_code ec;
    return read(ec);
  }
  websocket::close_reason reason() const { return ws_.reason(); }

 private:
  asio::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_{ioc_};
  websocket::response_type response_;
  bool open_ = false;
};

class WebSocketRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RouteOptions route;
    route.websocket = [this](const Request& request) {
      if (request.query_param("refuse")) return WebSocketAccept::refuse(Response::text(403, "not you"));
      WebSocketAccept accept;
      if (request.headers.get("Sec-WebSocket-Protocol").value_or("").find("echo.v1") !=
          std::string_view::npos)
        accept.subprotocol = "echo.v1";
      accept.options.max_message_bytes = 1024;
      accept.options.max_queued_messages = 4;
      accept.open = [this](std::shared_ptr<WebSocket> socket) {
        return std::make_shared<EchoSession>(std::move(socket), accepted_);
      };
      return accept;
    };
    router_.add(
        "GET", "/ws", [](const Request&) { return Response::text(426, "upgrade"); }, std::move(route));

    ServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.io_threads = 2;
    server_ = std::make_unique<Server>(options, router_, pool_);
    server_->start();
  }

  std::atomic<int> accepted_{0};
  Router router_;
  core::BlockingPool pool_{1, 8};
  std::unique_ptr<Server> server_;
};

TEST_F(WebSocketRouteTest, UpgradesAndExchangesWholeMessages) {
  Client client(server_->port(), "/ws", "echo.v1, other");
  ASSERT_TRUE(client.open());
  EXPECT_EQ(client.response()[beast::http::field::sec_websocket_protocol], "echo.v1");
  EXPECT_EQ(client.read(), "hello /ws");
  client.send("one");
  client.send(std::string(1000, 'x'));
  EXPECT_EQ(client.read(), "one");
  EXPECT_EQ(client.read(), std::string(1000, 'x'));
  const auto started = std::chrono::steady_clock::now();
  client.send("later");
  EXPECT_EQ(client.read(), "later");
  EXPECT_GE(std::chrono::steady_clock::now() - started, 90ms);

  client.send("bye");
  beast::error_code ec;
  client.read(ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(client.reason().code, 4000);
  EXPECT_EQ(std::string(client.reason().reason.data(), client.reason().reason.size()), "bye");
}

TEST_F(WebSocketRouteTest, TheHookMayRefuseAndPlainGetsReachTheHandler) {
  Client refused(server_->port(), "/ws?refuse=1");
  EXPECT_FALSE(refused.open());
  EXPECT_EQ(refused.response().result_int(), 403u);

  Client plain_protocols(server_->port());
  ASSERT_TRUE(plain_protocols.open());
  EXPECT_EQ(plain_protocols.response().count(beast::http::field::sec_websocket_protocol), 0u);

  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  beast::http::request<beast::http::empty_body> request{beast::http::verb::get, "/ws", 11};
  request.set(beast::http::field::host, "test");
  beast::http::write(stream, request);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> response;
  beast::http::read(stream, buffer, response);
  EXPECT_EQ(response.result_int(), 426u);
}

TEST_F(WebSocketRouteTest, TheOutboundQueueIsBounded) {
  Client client(server_->port());
  ASSERT_TRUE(client.open());
  EXPECT_EQ(client.read(), "hello /ws");
  client.send("flood");
  // The whole flood is queued in one callback, before the writer can take any of it.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(client.read(), "flood " + std::to_string(i));
  EXPECT_EQ(accepted_.load(), 4);
  client.send("still here");
  EXPECT_EQ(client.read(), "still here");
}

TEST_F(WebSocketRouteTest, ALargerMessageClosesWith1009) {
  Client client(server_->port());
  ASSERT_TRUE(client.open());
  EXPECT_EQ(client.read(), "hello /ws");
  client.send(std::string(1025, 'x'));
  beast::error_code ec;
  client.read(ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(client.reason().code, websocket::close_code::too_big);
}

TEST_F(WebSocketRouteTest, StoppingTheServerClosesWith1001) {
  Client client(server_->port());
  ASSERT_TRUE(client.open());
  EXPECT_EQ(client.read(), "hello /ws");
  std::thread reader([&client] {
    beast::error_code ec;
    client.read(ec);
    EXPECT_EQ(ec, websocket::error::closed);
  });
  const auto started = std::chrono::steady_clock::now();
  server_->stop(5s);
  reader.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s) << "an open WebSocket must not hold up the stop";
  EXPECT_EQ(client.reason().code, websocket::close_code::going_away);
}

TEST(WebSocketRouter, OnlyGetRoutesUpgrade) {
  Router router;
  RouteOptions options;
  options.websocket = [](const Request&) { return WebSocketAccept{}; };
  EXPECT_THROW(router.add(
                   "POST", "/ws", [](const Request&) { return Response::no_content(); }, options),
               std::invalid_argument);
  EXPECT_NO_THROW(router.add(
      "GET", "/ws", [](const Request&) { return Response::no_content(); }, options));
}

}  // namespace
}  // namespace factoryops::http
