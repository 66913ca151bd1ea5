// Starts the real Server on an ephemeral loopback port and talks raw HTTP/1.1 to it, so that
// malformed requests and connection reuse can be observed byte for byte.
#include "http/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "core/errors.hpp"
#include "core/metrics.hpp"
#include "core/thread_pool.hpp"
#include "http/router.hpp"

namespace factoryops::http {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Reply {
  int status = 0;
  Headers headers;
  std::string body;
};

class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  void send(std::string_view data) {
    while (!data.empty()) {
      auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // One response; nullopt when the server closed the connection (or timed out) first.
  std::optional<Reply> read_reply(bool head = false) {
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    Reply reply;
    std::string_view header(buffer_.data(), end);
    auto line_end = header.find("\r\n");
    auto status_line = header.substr(0, line_end);
    reply.status = std::stoi(std::string(status_line.substr(9, 3)));
    auto rest = line_end == std::string_view::npos ? std::string_view{} : header.substr(line_end + 2);
    while (!rest.empty()) {
      auto eol = rest.find("\r\n");
      auto line = rest.substr(0, eol);
      auto colon = line.find(':');
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      reply.headers.add(line.substr(0, colon), value);
      rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    }
    buffer_.erase(0, end + 4);
    std::size_t length = 0;
    if (auto cl = reply.headers.get("Content-Length"); cl && !head) length = std::stoul(std::string(*cl));
    while (buffer_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }

  // True when the server closes the connection within the receive timeout.
  bool closed_by_server() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  bool fill() {
    char chunk[4096];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

std::string get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) + "\r\n";
}

boost::json::value error_of(const Reply& reply) {
  return boost::json::parse(reply.body).at("error");
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static_dir_ = fs::temp_directory_path() / ("factoryops-server-" + std::to_string(std::random_device{}()));
    fs::create_directories(static_dir_ / "assets");
    std::ofstream(static_dir_ / "index.html") << "<html>spa</html>";
    std::ofstream(static_dir_ / "assets" / "app-1a2b.js") << "let x = 1;";

    router_.add("GET", "/hello", [](const Request&) { return Response::text(200, "hello"); });
    router_.add("GET", "/fast", [](const Request& r) { return Response::text(200, "fast " + r.request_id); },
                {.on_io_thread = true});
    router_.add("POST", "/echo", [](const Request& r) { return Response::text(200, r.body); });
    router_.add("POST", "/small", [](const Request& r) { return Response::text(200, r.body); },
                {.body_limit = 10});
    router_.add("GET", "/slow", [](const Request&) {
      std::this_thread::sleep_for(300ms);
      return Response::text(200, "finally");
    });
    router_.add("GET", "/fail",
                [](const Request&) -> Response { throw core::Invalid("limit", "must be > 0"); });
    router_.add("GET", "/page", [this](const Request&) { return Response::json(200, page_); });
    router_.add("GET", "/page-fast", [this](const Request&) { return Response::json(200, page_); },
                {.on_io_thread = true});
    router_.add("GET", "/things/{id}",
                [](const Request& r) { return Response::text(200, r.path_param("id")); });

    ServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.io_threads = 2;
    options.body_limit_bytes = 1024;
    options.header_limit = 4096;
    options.read_timeout = 2s;
    options.idle_timeout = 5s;
    options.static_dir = static_dir_.string();
    server_ = std::make_unique<Server>(options, router_, pool_);
    server_->start();
    ASSERT_NE(server_->port(), 0);
  }

  void TearDown() override {
    server_.reset();
    fs::remove_all(static_dir_);
  }

  // Larger than a socket's send buffer, so that it leaves in several writes.
  static std::string page_text() {
    std::string text = "[";
    for (int i = 0; text.size() < 600'000; ++i) text += "{\"n\":" + std::to_string(i) + "},";
    text.back() = ']';
    return text;
  }

  fs::path static_dir_;
  const std::shared_ptr<const std::string> page_ = std::make_shared<const std::string>(page_text());
  Router router_;
  core::BlockingPool pool_{2, 64};
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  RawClient client(server_->port());
  ASSERT_TRUE(client.connected());
  client.send(get("/hello"));
  auto first = client.read_reply();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "hello");
  client.send(get("/fast"));
  auto second = client.read_reply();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body.substr(0, 5), "fast ");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  RawClient client(server_->port());
  client.send(get("/slow") + get("/fast") + get("/things/42"));
  auto a = client.read_reply();
  auto b = client.read_reply();
  auto c = client.read_reply();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->body, "finally");
  EXPECT_EQ(b->body.substr(0, 4), "fast");
  EXPECT_EQ(c->body, "42");
}

TEST_F(ServerTest, EchoesAValidRequestIdAndReplacesABadOne) {
  RawClient client(server_->port());
  client.send(get("/fast", "X-Request-ID: trace-abc.123\r\n"));
  auto reply = client.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->headers.get("X-Request-ID"), "trace-abc.123");
  EXPECT_EQ(reply->body, "fast trace-abc.123");

  client.send(get("/fast", "X-Request-ID: not/a valid id\r\n"));
  auto replaced = client.read_reply();
  ASSERT_TRUE(replaced);
  auto id = std::string(replaced->headers.get("X-Request-ID").value_or(""));
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(replaced->body, "fast " + id);
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowedAreJsonWithTheRequestId) {
  RawClient client(server_->port());
  client.send(get("/api/v1/nothing", "X-Request-ID: rid-404\r\n"));
  auto missing = client.read_reply();
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->headers.get("Content-Type"), "application/json");
  EXPECT_EQ(error_of(*missing).at("code"), "not_found");
  EXPECT_EQ(error_of(*missing).at("request_id"), "rid-404");

  client.send("DELETE /hello HTTP/1.1\r\nHost: t\r\nX-Request-ID: rid-405\r\n\r\n");
  auto wrong = client.read_reply();
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->headers.get("Allow"), "GET, HEAD");
  EXPECT_EQ(error_of(*wrong).at("code"), "method_not_allowed");
  EXPECT_EQ(error_of(*wrong).at("request_id"), "rid-405");

  client.send(get("/fail"));
  auto invalid = client.read_reply();
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400);
  EXPECT_EQ(error_of(*invalid).at("field"), "limit");
}

TEST_F(ServerTest, OversizedBodiesAre413) {
  {
    RawClient client(server_->port());
    std::string body(2000, 'x');
    client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n" + body);
    auto reply = client.read_reply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 413);
    EXPECT_EQ(error_of(*reply).at("code"), "payload_too_large");
    EXPECT_TRUE(client.closed_by_server());
  }
  {
    // A chunked body announces no length: the limit trips while reading.
    RawClient client(server_->port());
    client.send(
        "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
        "chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
    auto reply = client.read_reply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 413);
  }
  RawClient client(server_->port());
  client.send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
  auto fits = client.read_reply();
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 200);
  EXPECT_EQ(fits->body, "0123456789");
}

TEST_F(ServerTest, MalformedRequestsAre400AndTheServerKeepsServing) {
  {
    RawClient client(server_->port());
    client.send("THIS IS NOT HTTP\r\n\r\n");
    auto reply = client.read_reply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 400);
    EXPECT_EQ(error_of(*reply).at("code"), "malformed_request");
    EXPECT_TRUE(client.closed_by_server());
  }
  {
    RawClient client(server_->port());
    client.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
    auto reply = client.read_reply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 431);
  }
  RawClient client(server_->port());
  client.send(get("/hello"));
  auto reply = client.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(ServerTest, HeadSendsTheLengthButNoBody) {
  RawClient client(server_->port());
  client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");
  auto reply = client.read_reply(true);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->headers.get("Content-Length"), "5");
  client.send(get("/hello"));  // a body sent by mistake would corrupt this response
  auto next = client.read_reply();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "hello");
}

TEST_F(ServerTest, ASharedBodyIsSentWholeOnEveryRequestAndStaysIntact) {
  const std::string expected = page_text();
  RawClient client(server_->port());
  client.send(get("/page"));
  auto first = client.read_reply();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->headers.get("Content-Type"), "application/json");
  EXPECT_EQ(first->headers.get("Content-Length"), std::to_string(expected.size()));
  EXPECT_TRUE(first->body == expected);
  // Pipelined on the same connection, from the pool and from the network thread: each
  // answer must be complete before the next one starts.
  client.send(get("/page-fast") + get("/page") + get("/hello"));
  for (int i = 0; i < 2; ++i) {
    auto again = client.read_reply();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
    EXPECT_TRUE(again->body == expected) << "reply " << i << " has " << again->body.size() << " bytes";
  }
  auto hello = client.read_reply();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->body, "hello");
  EXPECT_EQ(*page_, expected);
}

TEST_F(ServerTest, HeadOfASharedBodySendsItsLengthButNoBody) {
  RawClient client(server_->port());
  client.send("HEAD /page-fast HTTP/1.1\r\nHost: t\r\n\r\n");
  auto reply = client.read_reply(true);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->headers.get("Content-Length"), std::to_string(page_->size()));
  client.send(get("/hello"));  // a body sent by mistake would corrupt this response
  auto next = client.read_reply();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "hello");
}

TEST_F(ServerTest, ServesTheWebAppWithSpaFallback) {
  RawClient client(server_->port());
  client.send(get("/devices/press-1"));
  auto route = client.read_reply();
  ASSERT_TRUE(route);
  EXPECT_EQ(route->status, 200);
  EXPECT_EQ(route->body, "<html>spa</html>");
  EXPECT_EQ(route->headers.get("Cache-Control"), "no-cache");

  client.send(get("/assets/app-1a2b.js"));
  auto asset = client.read_reply();
  ASSERT_TRUE(asset);
  EXPECT_EQ(asset->headers.get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(asset->headers.get("Cache-Control"), "public, max-age=31536000, immutable");

  client.send(get("/%2e%2e/%2e%2e/etc/passwd"));
  auto escape = client.read_reply();
  ASSERT_TRUE(escape);
  EXPECT_EQ(escape->status, 404);

  client.send(get("/api/v1/unknown"));
  auto api = client.read_reply();
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 404);
  EXPECT_EQ(api->headers.get("Content-Type"), "application/json");
}

TEST_F(ServerTest, RecordsRequestDurationMetrics) {
  RawClient client(server_->port());
  client.send(get("/things/7"));
  ASSERT_TRUE(client.read_reply());
  client.send(get("/api/v1/missing"));
  ASSERT_TRUE(client.read_reply());
  auto text = core::metrics::Registry::global().expose();
  EXPECT_NE(
      text.find("api_request_duration_seconds_count{method=\"GET\",route=\"/things/{id}\",status=\"200\"}"),
      std::string::npos);
  EXPECT_NE(
      text.find("api_request_duration_seconds_count{method=\"GET\",route=\"unmatched\",status=\"404\"}"),
      std::string::npos);
}

TEST_F(ServerTest, StopFinishesRequestsInFlightAndClosesIdleConnections) {
  RawClient idle(server_->port());
  idle.send(get("/hello"));
  ASSERT_TRUE(idle.read_reply());

  RawClient busy(server_->port());
  busy.send(get("/slow"));
  std::this_thread::sleep_for(50ms);  // the handler is now sleeping on the pool
  auto stopped = std::async(std::launch::async, [&] { server_->stop(5s); });

  auto reply = busy.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "finally");
  EXPECT_EQ(reply->headers.get("Connection"), "close");
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_EQ(stopped.wait_for(5s), std::future_status::ready);

  RawClient late(server_->port());
  EXPECT_FALSE(late.connected());
}

TEST_F(ServerTest, ReportsAPortInUse) {
  ServerOptions options;
  options.address = "127.0.0.1";
  options.port = server_->port();
  Server second(options, router_, pool_);
  try {
    second.start();
    FAIL() << "expected the bind to fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("already in use"), std::string::npos) << e.what();
  }
}

TEST(ServerBusy, FullPoolAnswers503WithRetryAfter) {
  Router router;
  router.add("GET", "/job", [](const Request&) { return Response::text(200, "done"); });
  core::BlockingPool pool(1, 0);  // no queue: every submission is refused
  ServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  Server server(options, router, pool);
  server.start();
  RawClient client(server.port());
  client.send(get("/job"));
  auto reply = client.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->headers.get("Retry-After"), "1");
  EXPECT_EQ(error_of(*reply).at("code"), "unavailable");
  server.stop(1s);
}

TEST(ServerNoWebApp, RootSaysTheAppIsNotBuilt) {
  Router router;
  core::BlockingPool pool(1, 8);
  ServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.static_dir = (fs::temp_directory_path() / "factoryops-no-such-dist").string();
  Server server(options, router, pool);
  server.start();
  RawClient client(server.port());
  client.send(get("/"));
  auto reply = client.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  EXPECT_NE(reply->body.find("not built"), std::string::npos);
}

TEST(ServerTimeouts, IdleAndSlowConnectionsAreClosed) {
  Router router;
  router.add("GET", "/hello", [](const Request&) { return Response::text(200, "hello"); });
  core::BlockingPool pool(1, 8);
  ServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.read_timeout = 200ms;
  options.idle_timeout = 200ms;
  Server server(options, router, pool);
  server.start();

  RawClient idle(server.port());
  idle.send(get("/hello"));
  ASSERT_TRUE(idle.read_reply());
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);

  RawClient slow(server.port());
  slow.send("GET /hello HTTP/1.1\r\nHost: t\r\n");  // the header never ends
  EXPECT_TRUE(slow.closed_by_server());
  server.stop(1s);
}

}  // namespace
}  // namespace factoryops::http
