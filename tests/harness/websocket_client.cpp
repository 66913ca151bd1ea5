#include "harness/websocket_client.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace factoryops::testing {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
}  // namespace

struct WebSocketClient::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;

  bool is_open = false;
  int refused = 0;
  std::string refused_text;
  std::string selected;

  // Shared with the I/O thread.
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> inbox;
  bool ended = false;
  std::uint16_t code = 0;
  std::string reason;

  // I/O thread only.
  beast::flat_buffer buffer;
  bool paused = false;
  bool reading = false;
  std::deque<std::string> outbox;

  void read() {
    reading = true;
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
      reading = false;
      if (ec) {
        std::lock_guard lock(mutex);
        ended = true;
        code = ec == websocket::error::closed ? static_cast<std::uint16_t>(ws.reason().code) : 1006;
        reason = std::string(ws.reason().reason.data(), ws.reason().reason.size());
        changed.notify_all();
        return;
      }
      {
        std::lock_guard lock(mutex);
        inbox.push_back(beast::buffers_to_string(buffer.data()));
        changed.notify_all();
      }
      buffer.consume(buffer.size());
      if (!paused) read();
    });
  }

  void write() {
    ws.async_write(asio::buffer(outbox.front()), [this](beast::error_code ec, std::size_t) {
      outbox.pop_front();
      if (!ec && !outbox.empty()) write();
    });
  }
};

WebSocketClient::WebSocketClient(int port, WebSocketClientOptions options) : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  auto& socket = beast::get_lowest_layer(s.ws).socket();
  socket.open(tcp::v4());
  if (options.receive_buffer_bytes > 0) {
    socket.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer_bytes));
  }
  beast::get_lowest_layer(s.ws).connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(port)));

  std::string offered;
  for (const auto& p : options.subprotocols) offered += (offered.empty() ? "" : ", ") + p;
  s.ws.set_option(websocket::stream_base::decorator([offered](websocket::request_type& req) {
    if (!offered.empty()) req.set(beast::http::field::sec_websocket_protocol, offered);
  }));
  websocket::response_type response;
  beast::error_code ec;
  s.ws.handshake(response, "127.0.0.1:" + std::to_string(port), options.target, ec);
  if (ec) {
    s.refused = static_cast<int>(response.result_int());
    s.refused_text = response.body();
    return;
  }
  s.is_open = true;
  s.selected = std::string(response[beast::http::field::sec_websocket_protocol]);
  s.work.emplace(s.ioc.get_executor());
  s.read();
  s.thread = std::thread([&s] { s.ioc.run(); });
}

WebSocketClient::~WebSocketClient() {
  auto& s = *impl_;
  if (!s.thread.joinable()) return;
  asio::post(s.ioc, [&s] {
    beast::error_code ignored;
    beast::get_lowest_layer(s.ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(s.ws).close();
  });
  s.work.reset();
  s.thread.join();
}

bool WebSocketClient::open() const {
  return impl_->is_open;
}
int WebSocketClient::refused_status() const {
  return impl_->refused;
}
const std::string& WebSocketClient::refused_body() const {
  return impl_->refused_text;
}
const std::string& WebSocketClient::subprotocol() const {
  return impl_->selected;
}

void WebSocketClient::send(std::string text) {
  auto& s = *impl_;
  if (!s.is_open) return;
  asio::post(s.ioc, [&s, text = std::move(text)]() mutable {
    s.outbox.push_back(std::move(text));
    if (s.outbox.size() == 1) s.write();
  });
}

std::optional<std::string> WebSocketClient::next(std::chrono::milliseconds timeout) {
  auto& s = *impl_;
  std::unique_lock lock(s.mutex);
  s.changed.wait_for(lock, timeout, [&s] { return !s.inbox.empty() || s.ended; });
  if (s.inbox.empty()) return std::nullopt;
  std::string text = std::move(s.inbox.front());
  s.inbox.pop_front();
  return text;
}

std::optional<boost::json::object> WebSocketClient::next_json(std::chrono::milliseconds timeout) {
  auto text = next(timeout);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(*text, ec);
  if (ec || !value.is_object()) return boost::json::object{{"unparsed", *text}};
  return value.as_object();
}

std::optional<boost::json::object> WebSocketClient::next_of_type(const std::string& type,
                                                                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto message = next_json(left);
    if (!message) return std::nullopt;
    const auto* found = message->if_contains("type");
    if (found != nullptr && found->is_string() && found->as_string() == type) return message;
  }
}

bool WebSocketClient::round_trip(std::chrono::milliseconds timeout) {
  send(R"({"type":"ping"})");
  return next_of_type("pong", timeout).has_value();
}

bool WebSocketClient::wait_closed(std::chrono::milliseconds timeout) {
  auto& s = *impl_;
  if (!s.is_open) return true;
  std::unique_lock lock(s.mutex);
  return s.changed.wait_for(lock, timeout, [&s] { return s.ended; });
}

bool WebSocketClient::closed() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->ended;
}

std::uint16_t WebSocketClient::close_code() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->code;
}

std::string WebSocketClient::close_reason() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->reason;
}

void WebSocketClient::pause_reading() {
  auto& s = *impl_;
  if (!s.is_open) return;
  asio::post(s.ioc, [&s] { s.paused = true; });
}

void WebSocketClient::resume_reading() {
  auto& s = *impl_;
  if (!s.is_open) return;
  asio::post(s.ioc, [&s] {
    s.paused = false;
    bool ended = false;
    {
      std::lock_guard lock(s.mutex);
      ended = s.ended;
    }
    if (!s.reading && !ended) s.read();
  });
}

std::size_t WebSocketClient::queued() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->inbox.size();
}

}  // namespace factoryops::testing
