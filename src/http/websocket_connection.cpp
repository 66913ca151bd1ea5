#include "http/websocket_connection.hpp"

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "core/logging.hpp"

namespace factoryops::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using Clock = std::chrono::steady_clock;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxCloseReasonBytes = 123;  // RFC 6455 §5.5: control frames carry at most 125 bytes

}  // namespace

class WebSocketConnection final : public WebSocket, public std::enable_shared_from_this<WebSocketConnection> {
 public:
  WebSocketConnection(beast::tcp_stream stream, beast::http::request<beast::http::string_body> upgrade,
                      Request request, WebSocketAccept&& accept)
      : strand_(stream.get_executor()),
        ws_(std::move(stream)),
        upgrade_(std::move(upgrade)),
        request_(std::move(request)),
        options_(accept.options),
        subprotocol_(std::move(accept.subprotocol)),
        open_(std::move(accept.open)),
        wake_(strand_),
        writer_finished_(strand_),
        close_deadline_(strand_) {}

  bool send(std::string text) override;
  void close(std::uint16_t code, std::string reason) override;
  void post(std::function<void()> task, std::chrono::milliseconds delay) override;
  const Request& request() const override { return request_; }

  asio::awaitable<void> run();
  void shut_down(bool force);

 private:
  asio::awaitable<void> write_loop();
  void run_callback(const std::function<void()>& callback);
  void abort();
  void end();

  const asio::any_io_executor strand_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::http::request<beast::http::string_body> upgrade_;
  const Request request_;
  const WebSocketOptions options_;
  const std::string subprotocol_;
  std::function<std::shared_ptr<WebSocketSession>(std::shared_ptr<WebSocket>)> open_;

  // Used only on the strand.
  std::shared_ptr<WebSocketSession> session_;
  asio::steady_timer wake_;             // the writer sleeps on it while the queue is empty
  asio::steady_timer writer_finished_;  // run() waits on it for the writer to return
  asio::steady_timer close_deadline_;
  std::vector<std::weak_ptr<asio::steady_timer>> timers_;  // of post() with a delay
  bool ended_ = false;
  bool writer_done_ = true;
  std::uint64_t messages_in_ = 0;
  std::uint64_t messages_out_ = 0;

  // Guards the outbound queue, the close request and the end: send(), close() and post() come
  // from any thread.
  std::mutex mutex_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool closing_ = false;
  bool finished_ = false;
  std::optional<websocket::close_reason> close_reason_;
  bool writer_waiting_ = false;
};

bool WebSocketConnection::send(std::string text) {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return false;
    if (queue_.size() >= options_.max_queued_messages ||
        queued_bytes_ + text.size() > options_.max_queued_bytes) {
      return false;
    }
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (!writer_waiting_) return true;
    writer_waiting_ = false;
  }
  asio::post(strand_, [self = shared_from_this()] { self->wake_.cancel(); });
  return true;
}

void WebSocketConnection::close(std::uint16_t code, std::string reason) {
  if (reason.size() > kMaxCloseReasonBytes) reason.resize(kMaxCloseReasonBytes);
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    close_reason_.emplace(static_cast<websocket::close_code>(code), reason);
    writer_waiting_ = false;
  }
  asio::post(strand_, [self = shared_from_this()] {
    if (self->ended_) return;
    self->wake_.cancel();
    // A peer that does not read cannot receive the close frame either: do not wait for it forever.
    self->close_deadline_.expires_after(self->options_.handshake_timeout);
    self->close_deadline_.async_wait([self](boost::system::error_code ec) {
      if (!ec && !self->ended_) self->abort();
    });
  });
}

void WebSocketConnection::post(std::function<void()> task, std::chrono::milliseconds delay) {
  {
    // Once the connection has ended nothing is posted: the server (and its I/O context) may be
    // gone by the time a worker finishes a task for this connection.
    std::lock_guard lock(mutex_);
    if (finished_) return;
  }
  asio::post(strand_, [self = shared_from_this(), task = std::move(task), delay]() mutable {
    if (self->ended_) return;
    if (delay <= std::chrono::milliseconds::zero()) {
      self->run_callback(task);
      return;
    }
    std::erase_if(self->timers_, [](const auto& weak) { return weak.expired(); });
    auto timer = std::make_shared<asio::steady_timer>(self->strand_, delay);
    self->timers_.push_back(timer);
    timer->async_wait([self, timer, task = std::move(task)](boost::system::error_code ec) {
      if (!ec && !self->ended_) self->run_callback(task);
    });
  });
}

void WebSocketConnection::run_callback(const std::function<void()>& callback) {
  log::RequestIdScope scope(request_.request_id);
  try {
    callback();
  } catch (const std::exception& e) {
    log::error("websocket session failed", {{"route", request_.route_template}, {"error", e.what()}});
    close(1011, "internal error");
  }
}

void WebSocketConnection::abort() {
  auto& socket = beast::get_lowest_layer(ws_).socket();
  boost::system::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

void WebSocketConnection::shut_down(bool force) {
  if (force) {
    abort();
  } else {
    close(1001, "server shutting down");
  }
}

asio::awaitable<void> WebSocketConnection::write_loop() {
  for (;;) {
    std::string next;
    std::optional<websocket::close_reason> closing;
    bool idle = false;
    {
      std::lock_guard lock(mutex_);
      if (close_reason_) {
        closing = close_reason_;
      } else if (!queue_.empty()) {
        next = std::move(queue_.front());
        queue_.pop_front();
        queued_bytes_ -= next.size();
      } else {
        writer_waiting_ = true;
        idle = true;
      }
    }
    if (ended_) co_return;
    if (closing) {
      // Its outcome does not matter: the read side sees the connection end either way.
      co_await ws_.async_close(*closing, kNoThrow);
      co_return;
    }
    if (idle) {
      wake_.expires_at(Clock::time_point::max());
      co_await wake_.async_wait(kNoThrow);  // cancelled by send(), close() or the end
      continue;
    }
    const asio::const_buffer payload(next.data(), next.size());
    auto [ec, written] = co_await ws_.async_write(payload, kNoThrow);
    if (ec) {
      abort();
      co_return;
    }
    ++messages_out_;
  }
}

void WebSocketConnection::end() {
  ended_ = true;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    finished_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    writer_waiting_ = false;
  }
  wake_.cancel();
  close_deadline_.cancel();
  for (const auto& weak : timers_) {
    if (auto timer = weak.lock()) timer->cancel();
  }
  timers_.clear();
  if (session_) {
    run_callback([this] { session_->on_close(); });
    session_.reset();
  }
  // The read side has ended, so the connection is over: a write still blocked on a peer that
  // stopped reading would otherwise hold the writer (and this object) until the kernel gives up.
  if (!writer_done_) abort();
}

asio::awaitable<void> WebSocketConnection::run() {
  auto self = shared_from_this();
  const auto started = Clock::now();

  // The WebSocket layer keeps its own timers (handshake, idle pings); the TCP stream's would
  // cut a quiet but healthy connection.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options_.handshake_timeout;
  // Beast pings after half the idle timeout without a frame from the peer, and gives up after all of it.
  timeouts.idle_timeout = 2 * options_.ping_interval;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(
      websocket::stream_base::decorator([subprotocol = subprotocol_](websocket::response_type& res) {
        res.set(beast::http::field::server, "factoryops");
        if (!subprotocol.empty()) res.set(beast::http::field::sec_websocket_protocol, subprotocol);
      }));
  // To prevent abuse, a larger message fails the read and closes with 1009 (message too big).
  ws_.read_message_max(options_.max_message_bytes);
  ws_.auto_fragment(false);

  auto [accept_ec] = co_await ws_.async_accept(upgrade_, kNoThrow);
  upgrade_ = {};
  if (accept_ec) {
    log::RequestIdScope scope(request_.request_id);
    log::debug("websocket handshake failed",
               {{"route", request_.route_template}, {"error", accept_ec.message()}});
    abort();
    co_return;
  }
  ws_.text(true);
  {
    // Not held across a suspension: the request id is per thread.
    log::RequestIdScope scope(request_.request_id);
    log::info("websocket opened", {{"route", request_.route_template}, {"remote", request_.remote_address}});
    try {
      session_ = open_(self);
    } catch (const std::exception& e) {
      log::error("websocket session failed to open", {{"error", e.what()}});
    }
  }
  open_ = nullptr;
  if (!session_) close(1011, "internal error");

  writer_done_ = false;
  asio::co_spawn(strand_, write_loop(), asio::bind_executor(strand_, [self](const std::exception_ptr&) {
                   self->writer_done_ = true;
                   self->writer_finished_.cancel();
                 }));
  if (session_) run_callback([this] { session_->on_open(); });

  beast::flat_buffer buffer;
  boost::system::error_code read_ec;
  for (;;) {
    auto [ec, bytes] = co_await ws_.async_read(buffer, kNoThrow);
    if (ec) {
      read_ec = ec;
      break;
    }
    ++messages_in_;
    if (session_ && !ended_) {
      const std::string_view text(static_cast<const char*>(buffer.cdata().data()), buffer.size());
      run_callback([this, text] { session_->on_message(text); });
    }
    buffer.consume(buffer.size());
  }

  end();
  if (!writer_done_) {
    writer_finished_.expires_at(Clock::time_point::max());
    co_await writer_finished_.async_wait(kNoThrow);
  }

  // Who ended it, for the log: the server's close (the application's, or shutdown), the peer's
  // close frame, or an error (timeout, reset, too large a message).
  std::uint16_t code = 0;
  std::string end_reason;
  {
    std::lock_guard lock(mutex_);
    if (close_reason_) {
      code = close_reason_->code;
      end_reason = "server closed";
    }
  }
  if (end_reason.empty()) {
    if (read_ec == websocket::error::closed) {
      code = ws_.reason().code;
      end_reason = "client closed";
    } else {
      if (read_ec == websocket::error::message_too_big) code = websocket::close_code::too_big;
      end_reason = read_ec.message();
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  log::RequestIdScope scope(request_.request_id);
  log::info("websocket closed", {{"route", request_.route_template},
                                 {"remote", request_.remote_address},
                                 {"close_code", static_cast<int>(code)},
                                 {"end", end_reason},
                                 {"duration_ms", seconds * 1000.0},
                                 {"messages_in", messages_in_},
                                 {"messages_out", messages_out_}});
}

std::shared_ptr<WebSocketConnection> make_websocket_connection(
    beast::tcp_stream stream, beast::http::request<beast::http::string_body> upgrade, Request request,
    WebSocketAccept accept) {
  return std::make_shared<WebSocketConnection>(std::move(stream), std::move(upgrade), std::move(request),
                                               std::move(accept));
}

asio::awaitable<void> run_websocket(WebSocketConnection& connection) {
  return connection.run();
}

void shut_down_websocket(WebSocketConnection& connection, bool force) {
  connection.shut_down(force);
}

}  // namespace factoryops::http
