// `factoryops serve` on the embedded default, driven over real HTTP: what a browser, a
// monitoring system or an init system sees.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "harness/factoryops.hpp"

namespace factoryops::testing {
namespace {

namespace json = boost::json;

ServeOptions labelled(std::string label) {
  ServeOptions o;
  o.label = std::move(label);
  return o;
}

json::object parse_object(const std::string& body) {
  json::value v = json::parse(body);
  return v.as_object();
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    web_ = std::make_unique<TempDir>("factoryops-web");
    auto root = web_->path();
    std::filesystem::create_directories(root / "assets");
    std::filesystem::create_directories(root / "api-docs");
    std::ofstream(root / "index.html") << "<!doctype html><title>FactoryOps</title><div id=root></div>";
    std::ofstream(root / "assets" / "index-3f9a2c1b.js") << "console.log('app')";
    std::ofstream(root / "favicon.svg") << "<svg xmlns='http://www.w3.org/2000/svg'/>";
    std::ofstream(root / "api-docs" / "index.html") << "<!doctype html><title>API reference</title>";
    ServeOptions o;
    o.label = "serve-embedded";
    o.env = {{"FACTORYOPS_STATIC_DIR", root.string()}, {"FACTORYOPS_HTTP_BODY_LIMIT_BYTES", "4096"}};
    server_ = std::make_unique<FactoryopsServer>(o);
  }
  static void TearDownTestSuite() {
    server_.reset();
    web_.reset();
  }
  static FactoryopsServer& server() { return *server_; }

  static std::unique_ptr<TempDir> web_;
  static std::unique_ptr<FactoryopsServer> server_;
};

std::unique_ptr<TempDir> ServeTest::web_;
std::unique_ptr<FactoryopsServer> ServeTest::server_;

TEST_F(ServeTest, HealthHasTheDocumentedShape) {
  auto r = server().get("/health");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
  auto body = parse_object(r.body);
  EXPECT_EQ(body.at("status").as_string(), "healthy");
  EXPECT_TRUE(body.at("service").is_string());
  EXPECT_EQ(body.at("dependencies").as_object().at("sqlite").as_string(), "ok");
  EXPECT_EQ(body.size(), 3u) << r.body;
}

TEST_F(ServeTest, MigrationsAreAppliedOnStart) {
  EXPECT_TRUE(std::filesystem::exists(server().data_dir() / "factoryops.db"));
  auto r = run_factoryops({"migrate", "--status"}, {{"FACTORYOPS_DATA_DIR", server().data_dir().string()}});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("pending"), std::string::npos) << r.output;
}

TEST_F(ServeTest, RequestIdIsEchoedOrGenerated) {
  auto mine = server().get("/health", {{"X-Request-ID", "trace-42.a:b"}});
  EXPECT_EQ(mine.header("x-request-id"), "trace-42.a:b");
  auto generated = server().get("/health", {{"X-Request-ID", "has spaces and \"quotes\""}});
  EXPECT_FALSE(generated.header("x-request-id").empty());
  EXPECT_NE(generated.header("x-request-id"), "has spaces and \"quotes\"");
  auto none = server().get("/health");
  EXPECT_GE(none.header("x-request-id").size(), 16u);
}

TEST_F(ServeTest, UnknownApiRouteIsJson404WithRequestId) {
  auto r = server().get("/api/v1/no-such-thing", {{"X-Request-ID", "rid-404"}});
  ASSERT_EQ(r.status, 404);
  auto err = parse_object(r.body).at("error").as_object();
  EXPECT_EQ(err.at("code").as_string(), "not_found");
  EXPECT_FALSE(err.at("message").as_string().empty());
  EXPECT_EQ(err.at("request_id").as_string(), "rid-404");
}

TEST_F(ServeTest, WrongMethodIsJson405WithAllow) {
  auto r = server().request("DELETE", "/health");
  ASSERT_EQ(r.status, 405) << r.body;
  EXPECT_NE(r.header("allow").find("GET"), std::string::npos);
  EXPECT_EQ(parse_object(r.body).at("error").as_object().at("code").as_string(), "method_not_allowed");
}

TEST_F(ServeTest, OversizedBodyIs413AndServerKeepsServing) {
  // A keep-alive request, as browsers send: the server must look at the announced length.
  std::string body(64 * 1024, 'x');
  auto r = parse_response(raw_exchange(server().port(),
                                       "POST /api/v1/system/info HTTP/1.1\r\nHost: x\r\n"
                                       "Content-Type: application/json\r\nContent-Length: " +
                                           std::to_string(body.size()) + "\r\n\r\n" + body));
  ASSERT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(parse_object(r.body).at("error").as_object().at("code").as_string(), "payload_too_large");
  EXPECT_EQ(server().get("/health").status, 200);
}

TEST_F(ServeTest, MalformedHttpIs400AndServerKeepsServing) {
  for (const std::string& garbage : {std::string("THIS IS NOT HTTP\r\n\r\n"),
                                     std::string("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"),
                                     std::string("GET / HTTP/1.1\r\nContent-Length: banana\r\n\r\n")}) {
    auto r = parse_response(raw_exchange(server().port(), garbage));
    EXPECT_EQ(r.status, 400) << garbage;
  }
  EXPECT_EQ(server().get("/health").status, 200);
}

TEST_F(ServeTest, MetricsExposeRequestDurationsByRouteTemplate) {
  server().get("/health");
  server().get("/api/v1/no-such-thing");
  auto r = server().get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE api_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(
      r.body.find("api_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",status=\"200\""),
      std::string::npos)
      << r.body.substr(0, 4000);
  EXPECT_NE(r.body.find("status=\"404\""), std::string::npos);
  EXPECT_NE(r.body.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(r.body.find("process_cpu_seconds_total"), std::string::npos);
}

TEST_F(ServeTest, OpenApiDocumentIsServed) {
  auto r = server().get("/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = parse_object(r.body);
  EXPECT_EQ(doc.at("openapi").as_string().subview().substr(0, 3), "3.1");
  EXPECT_TRUE(doc.at("paths").as_object().contains("/health"));
}

TEST_F(ServeTest, SystemInfoDescribesTheProcess) {
  auto r = server().get("/api/v1/system/info");
  ASSERT_EQ(r.status, 200) << r.body;
  auto info = parse_object(r.body);
  EXPECT_EQ(info.at("name").as_string(), "FactoryOps");
  EXPECT_EQ(info.at("metadata_backend").as_string(), "sqlite");
  EXPECT_EQ(info.at("roles").as_array().at(0).as_string(), "api");
  EXPECT_GE(info.at("uptime_seconds").to_number<double>(), 0.0);
}

TEST_F(ServeTest, WebAppIsServedWithClientRouteFallbackAndCaching) {
  auto index = server().get("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("FactoryOps"), std::string::npos);
  EXPECT_NE(index.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(index.header("cache-control").find("no-cache"), std::string::npos);

  auto client_route = server().get("/machines/compressor-1");
  EXPECT_EQ(client_route.status, 200);
  EXPECT_EQ(client_route.body, index.body);

  auto asset = server().get("/assets/index-3f9a2c1b.js");
  EXPECT_EQ(asset.status, 200);
  EXPECT_NE(asset.header("content-type").find("javascript"), std::string::npos);
  EXPECT_NE(asset.header("cache-control").find("immutable"), std::string::npos);

  EXPECT_EQ(server().get("/assets/missing-0000.js").status, 404);
  EXPECT_EQ(server().get("/favicon.svg").header("content-type").find("image/svg+xml"), 0u);
}

TEST_F(ServeTest, PathTraversalNeverLeavesTheWebAppDirectory) {
  for (const char* target : {"/../../../../etc/passwd", "/assets/..%2f..%2f..%2fetc%2fpasswd",
                             "/%2e%2e/%2e%2e/etc/passwd", "/assets/%2e%2e/%2e%2e/%2e%2e/etc/hostname"}) {
    auto r = raw_exchange(server().port(),
                          std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.find("root:"), std::string::npos) << target;
    auto parsed = parse_response(r);
    EXPECT_TRUE(parsed.status == 404 || parsed.status == 400 ||
                parsed.body.find("FactoryOps") != std::string::npos)
        << target << " -> " << parsed.status;
  }
}

TEST_F(ServeTest, ApiReferenceIsServed) {
  auto r = server().get("/api/docs");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("API reference"), std::string::npos);
}

TEST(ServeLifecycleTest, SigtermStopsGracefullyWithExitZero) {
  FactoryopsServer server(labelled("serve-sigterm"));
  ASSERT_EQ(server.get("/health").status, 200);
  server.process().signal(SIGTERM);
  auto status = server.process().wait(std::chrono::seconds(25));
  ASSERT_TRUE(status.has_value()) << "still running 25 s after SIGTERM";
  EXPECT_EQ(*status, 0) << server.log();
  EXPECT_EQ(http_get(server.port(), "/health", {}).status, 0) << "still accepting after shutdown";
  EXPECT_NE(server.log().find("stopped"), std::string::npos) << server.log();
}

// Every worker role and its clocks end on SIGTERM too: a clock that kept turning once asked to
// stop held the process forever.
TEST(ServeLifecycleTest, SigtermStopsTheWorkerRolesPromptly) {
  ServeOptions o = labelled("serve-sigterm-workers");
  o.roles = "api,rule-engine,notifications,scheduler";
  FactoryopsServer server(o);
  ASSERT_EQ(server.get("/health").status, 200);
  // Long enough for the engine's and the scheduler's clocks to have started waiting.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto asked = std::chrono::steady_clock::now();
  server.process().signal(SIGTERM);
  auto status = server.process().wait(std::chrono::seconds(25));
  ASSERT_TRUE(status.has_value()) << "still running 25 s after SIGTERM";
  EXPECT_EQ(*status, 0) << server.log();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(10)) << server.log();
}

TEST(ServeLifecycleTest, PortInUseIsAClearStartupError) {
  FactoryopsServer first(labelled("serve-port-a"));
  auto r = run_factoryops({"serve"},
                          {{"FACTORYOPS_HTTP_PORT", std::to_string(first.port())},
                           {"FACTORYOPS_HTTP_ADDRESS", "127.0.0.1"},
                           {"FACTORYOPS_DATA_DIR", (first.data_dir().parent_path() / "other").string()}});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(std::to_string(first.port())), std::string::npos) << r.output;
  EXPECT_EQ(first.get("/health").status, 200);
}

TEST(ServeLifecycleTest, LogLinesAreJson) {
  FactoryopsServer server(labelled("serve-json-logs"));
  server.get("/health", {{"X-Request-ID", "log-check-1"}});
  server.process().signal(SIGTERM);
  server.process().wait(std::chrono::seconds(25));
  std::istringstream lines(server.log());
  std::string line;
  int count = 0;
  bool saw_request = false;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    ++count;
    json::object o;
    ASSERT_NO_THROW(o = parse_object(line)) << line;
    for (const char* key : {"ts", "level", "role", "request_id", "msg"}) EXPECT_TRUE(o.contains(key)) << line;
    if (o.at("request_id").as_string() == "log-check-1") saw_request = true;
  }
  EXPECT_GT(count, 2);
  EXPECT_TRUE(saw_request) << "no log line carried the request id";
}

}  // namespace
}  // namespace factoryops::testing
