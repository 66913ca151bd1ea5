// GET /api/v1/ws through the built binary with a real WebSocket client: both ways to present
// the token, readings posted over HTTP ingest arriving live, isolation between factories, the
// refusals (token in the URL, bad token, no auth in time, deactivated user, expired token), the
// message errors that keep the connection, the size limit, a client that stops reading being
// dropped while ingestion goes on, and the 1001 close on shutdown.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include "auth/jwt.hpp"
#include "auth_support.hpp"
#include "harness/websocket_client.hpp"

namespace factoryops::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kV1 = "factoryops.v1";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class LiveFeedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    jwt_secret_ = make_secret(40);
    stack_ = new IdentityStack("sqlite", "live-feed", {{"FACTORYOPS_JWT_SECRET", jwt_secret_}});
    alpha_password_ = stack_->bootstrap("alpha", "owner@alpha.example");
    std::string beta_password = stack_->bootstrap("beta", "owner@beta.example");
    alpha_token_ = stack_->access_token("alpha", "owner@alpha.example", alpha_password_);
    beta_token_ = stack_->access_token("beta", "owner@beta.example", beta_password);
    press_key_ = create_device(alpha_token_, "press-1");
    lathe_key_ = create_device(alpha_token_, "lathe-1");
    beta_press_key_ = create_device(beta_token_, "press-1");
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  static std::string create_device(const std::string& token, const std::string& id) {
    auto r = stack_->post("/api/v1/devices",
                          json_body({{"device_id", json::value(id)}, {"name", json::value("Machine " + id)}}),
                          token);
    EXPECT_EQ(r.status, 201) << r.body;
    std::string key(object_of(r.body).at("api_key").as_string());
    register_secret(key);
    return key;
  }

  static HttpResponse ingest(const std::string& key, const std::string& body) {
    return stack_->server().request(
        "POST", "/api/v1/ingest", body,
        {{"Authorization", "Device " + key}, {"Content-Type", "application/json"}});
  }

  static int port() { return stack_->server().port(); }

  // A client signed in with the token in the subprotocol header; fails the test unless ready.
  static std::unique_ptr<WebSocketClient> connect(const std::string& token) {
    auto client = std::make_unique<WebSocketClient>(
        port(), WebSocketClientOptions{.subprotocols = {kV1, "bearer." + token}});
    EXPECT_TRUE(client->open()) << client->refused_status() << " " << client->refused_body();
    auto ready = client->next_json();
    EXPECT_TRUE(ready && ready->at("type") == "ready") << (ready ? json::serialize(*ready) : "nothing");
    return client;
  }

  static double metric(const std::string& name) {
    const std::string text = stack_->server().get("/metrics").body;
    auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
  }

  static IdentityStack* stack_;
  static std::string jwt_secret_, alpha_password_, alpha_token_, beta_token_, press_key_, lathe_key_,
      beta_press_key_;
};

IdentityStack* LiveFeedTest::stack_ = nullptr;
std::string LiveFeedTest::jwt_secret_, LiveFeedTest::alpha_password_, LiveFeedTest::alpha_token_,
    LiveFeedTest::beta_token_, LiveFeedTest::press_key_, LiveFeedTest::lathe_key_,
    LiveFeedTest::beta_press_key_;

TEST_F(LiveFeedTest, TokenInTheSubprotocolHeaderThenReadingsArriveLive) {
  WebSocketClient client(port(), {.subprotocols = {kV1, "bearer." + alpha_token_}});
  ASSERT_TRUE(client.open()) << client.refused_status() << " " << client.refused_body();
  EXPECT_EQ(client.subprotocol(), kV1) << "the server selects factoryops.v1, never the token";
  auto ready = client.next_json();
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->at("type"), "ready");
  EXPECT_EQ(ready->at("factory_id"), "alpha");
  EXPECT_GT(ready->at("user_id").as_int64(), 0);
  EXPECT_TRUE(std::string(ready->at("expires_at").as_string()).ends_with("Z"));

  client.send(R"({"type":"subscribe","devices":["press-1"],"params":["power_kw"]})");
  ASSERT_TRUE(client.round_trip()) << "ping answers pong once the subscribe is in effect";

  const auto before = std::chrono::system_clock::now();
  ASSERT_EQ(ingest(press_key_, R"({"power_kw":12.5,"rpm":1450})").status, 202);
  ASSERT_EQ(ingest(lathe_key_, R"({"power_kw":3.0})").status, 202);
  auto text = client.next();
  ASSERT_TRUE(text);
  // Numbers are written as the shortest exact decimal.
  EXPECT_NE(text->find(R"("values":{"power_kw":12.5}})"), std::string::npos)
      << *text << ": only the subscribed parameter";
  auto reading = object_of(*text);
  EXPECT_EQ(reading.at("type"), "reading");
  EXPECT_EQ(reading.at("device_id"), "press-1");
  const auto ts = reading.at("ts").as_int64();
  const auto before_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(before.time_since_epoch()).count();
  EXPECT_GE(ts, before_ms - 1000);
  EXPECT_LE(ts, before_ms + 10'000);
  // Not subscribed to lathe-1: nothing more arrives.
  EXPECT_FALSE(client.next(500ms));
}

TEST_F(LiveFeedTest, TokenInTheFirstMessage) {
  for (const std::vector<std::string>& offered :
       {std::vector<std::string>{kV1}, std::vector<std::string>{}}) {
    WebSocketClient client(port(), {.subprotocols = offered});
    ASSERT_TRUE(client.open()) << client.refused_status() << " " << client.refused_body();
    EXPECT_EQ(client.subprotocol(), offered.empty() ? "" : kV1);
    client.send(json::serialize(json::object{{"type", "auth"}, {"token", alpha_token_}}));
    auto ready = client.next_json();
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->at("type"), "ready") << json::serialize(*ready);
    EXPECT_EQ(ready->at("factory_id"), "alpha");

    client.send(R"({"type":"subscribe","devices":"*"})");
    ASSERT_TRUE(client.round_trip());
    ASSERT_EQ(ingest(lathe_key_, R"({"spindle":{"rpm":900},"door_open":true})").status, 202);
    auto reading = client.next_of_type("reading");
    ASSERT_TRUE(reading);
    EXPECT_EQ(reading->at("device_id"), "lathe-1");
    EXPECT_EQ(json::serialize(reading->at("values")), R"({"door_open":1,"spindle.rpm":900})");
  }
}

TEST_F(LiveFeedTest, AnotherFactorysMachinesAreNotFoundAndNeverDelivered) {
  auto alpha = connect(alpha_token_);
  auto beta = connect(beta_token_);
  alpha->send(R"({"type":"subscribe","devices":"*"})");
  // lathe-1 is alpha's only; press-1 exists in both factories and must mean beta's own.
  beta->send(R"({"type":"subscribe","devices":["lathe-1","press-1","no-such-machine"]})");
  auto first = beta->next_json();
  auto second = beta->next_json();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(
      json::serialize(*first),
      R"({"type":"error","code":"not_found","message":"machine 'lathe-1' not found","device_id":"lathe-1"})");
  EXPECT_EQ(second->at("code"), "not_found");
  EXPECT_EQ(second->at("device_id"), "no-such-machine");
  EXPECT_EQ(first->at("message").as_string().find("alpha"), json::string::npos);
  ASSERT_TRUE(beta->round_trip());
  ASSERT_TRUE(alpha->round_trip());

  ASSERT_EQ(ingest(lathe_key_, R"({"power_kw":7.5})").status, 202);
  ASSERT_EQ(ingest(press_key_, R"({"power_kw":8.5})").status, 202);
  std::set<std::string> alpha_devices;
  for (int i = 0; i < 2; ++i) {
    auto r = alpha->next_of_type("reading");
    ASSERT_TRUE(r);
    alpha_devices.insert(std::string(r->at("device_id").as_string()));
  }
  EXPECT_EQ(alpha_devices, (std::set<std::string>{"lathe-1", "press-1"}));

  // Beta's own press-1: the first reading beta ever gets is its own.
  ASSERT_EQ(ingest(beta_press_key_, R"({"power_kw":99.5})").status, 202);
  auto own = beta->next_json();
  ASSERT_TRUE(own);
  EXPECT_EQ(own->at("type"), "reading") << json::serialize(*own);
  EXPECT_EQ(own->at("device_id"), "press-1");
  EXPECT_EQ(own->at("values").at("power_kw").to_number<double>(), 99.5);
  EXPECT_FALSE(alpha->next(300ms)) << "alpha never sees beta's data either";
}

TEST_F(LiveFeedTest, ATokenInTheUrlIsRefused) {
  for (const char* query : {"?token=", "?access_token="}) {
    WebSocketClient client(
        port(), {.target = std::string("/api/v1/ws") + query + alpha_token_, .subprotocols = {kV1}});
    EXPECT_FALSE(client.open());
    EXPECT_EQ(client.refused_status(), 400);
    auto body = object_of(client.refused_body());
    ASSERT_TRUE(body.contains("error")) << client.refused_body();
    EXPECT_EQ(body.at("error").at("code"), "token_in_url");
    EXPECT_NE(std::string(body.at("error").at("message").as_string()).find("never accepted in the URL"),
              std::string::npos);
  }
  // Subprotocols without factoryops.v1 are refused as well.
  WebSocketClient other(port(), {.subprotocols = {"chat"}});
  EXPECT_FALSE(other.open());
  EXPECT_EQ(other.refused_status(), 400);
}

TEST_F(LiveFeedTest, BadTokensCloseWith4401) {
  WebSocketClient header(port(), {.subprotocols = {kV1, "bearer.not-a-token"}});
  ASSERT_TRUE(header.open());
  ASSERT_TRUE(header.wait_closed());
  EXPECT_EQ(header.close_code(), 4401);
  EXPECT_EQ(header.close_reason(), "invalid or expired access token");

  WebSocketClient message(port(), {.subprotocols = {kV1}});
  ASSERT_TRUE(message.open());
  message.send(R"({"type":"auth","token":"eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"})");
  ASSERT_TRUE(message.wait_closed());
  EXPECT_EQ(message.close_code(), 4401);

  WebSocketClient skipped(port(), {.subprotocols = {kV1}});
  ASSERT_TRUE(skipped.open());
  skipped.send(R"({"type":"subscribe","devices":"*"})");
  ASSERT_TRUE(skipped.wait_closed());
  EXPECT_EQ(skipped.close_code(), 4401);
  EXPECT_NE(skipped.close_reason().find("auth"), std::string::npos) << skipped.close_reason();
}

TEST_F(LiveFeedTest, NoAuthWithinFiveSecondsCloses4401) {
  WebSocketClient silent(port(), {.subprotocols = {kV1}});
  ASSERT_TRUE(silent.open());
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(silent.wait_closed(10s));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(silent.close_code(), 4401);
  EXPECT_NE(silent.close_reason().find("timeout"), std::string::npos) << silent.close_reason();
  EXPECT_GE(waited, 4s);
  EXPECT_LE(waited, 8s);
}

TEST_F(LiveFeedTest, BadMessagesAnswerErrorsAndTheConnectionStays) {
  auto client = connect(alpha_token_);
  for (const char* bad : {"not json", R"({"type":"dance"})", R"({"type":"subscribe","devices":[]})"}) {
    client->send(bad);
    auto error = client->next_json();
    ASSERT_TRUE(error) << bad;
    EXPECT_EQ(error->at("type"), "error") << bad;
    EXPECT_EQ(error->at("code"), "invalid_message") << bad;
    EXPECT_FALSE(error->at("message").as_string().empty());
  }
  EXPECT_TRUE(client->round_trip());
  EXPECT_FALSE(client->closed());

  // A message over 16 KiB closes with 1009.
  std::string big = R"({"type":"ping","pad":")" + std::string(16 * 1024, 'x') + R"("})";
  client->send(big);
  ASSERT_TRUE(client->wait_closed());
  EXPECT_EQ(client->close_code(), 1009);
}

TEST_F(LiveFeedTest, APlainGetIsNotAWebSocket) {
  EXPECT_EQ(stack_->server().get("/api/v1/ws").status, 401);
  auto r = stack_->server().get("/api/v1/ws", bearer(alpha_token_));
  EXPECT_EQ(r.status, 426) << r.body;
  EXPECT_EQ(object_of(r.body).at("error").at("code"), "upgrade_required");
}

TEST_F(LiveFeedTest, ADeactivatedUserIsDisconnected) {
  const std::string password = make_secret(24);
  auto created = stack_->cli({"admin", "create-user", "--factory", "alpha", "--email", "viewer@alpha.example",
                              "--role", "admin", "--name", "Viewer"},
                             password + "\n");
  ASSERT_EQ(created.status, 0) << created.output;
  auto login = stack_->login("alpha", "viewer@alpha.example", password);
  ASSERT_EQ(login.status, 200) << login.body;
  auto session = object_of(login.body);
  const std::string token(session.at("access_token").as_string());
  const auto user_id = session.at("user").at("id").to_number<std::int64_t>();

  auto client = connect(token);
  ASSERT_TRUE(client->round_trip());
  auto patched = stack_->server().request("PATCH", "/api/v1/users/" + std::to_string(user_id),
                                          R"({"is_active":false})", bearer(alpha_token_));
  ASSERT_EQ(patched.status, 200) << patched.body;
  ASSERT_TRUE(client->wait_closed(6s)) << "a deactivation takes effect on open connections";
  EXPECT_EQ(client->close_code(), 4401);
  EXPECT_EQ(client->close_reason(), "access revoked: sign in again");
}

TEST_F(LiveFeedTest, AnExpiringTokenClosesWith4401UnlessRenewed) {
  // A token like the owner's that expires in three seconds, signed with the server's key.
  const auth::KeyRing ring({auth::SigningKey{"default", jwt_secret_}});
  auto verified = auth::verify_access_token(ring, alpha_token_, now_seconds());
  ASSERT_TRUE(verified.claims) << verified.problem;
  auto claims = *verified.claims;
  claims.issued_at = now_seconds();
  claims.expires_at = now_seconds() + 3;
  const std::string short_lived = auth::sign_access_token(ring, claims);
  register_secret(short_lived);

  auto expiring = connect(short_lived);
  auto renewed = connect(short_lived);
  // Renewal: a fresh token of the same user extends the connection and answers ready again.
  renewed->send(json::serialize(json::object{{"type", "auth"}, {"token", alpha_token_}}));
  auto ready = renewed->next_json();
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->at("type"), "ready");

  ASSERT_TRUE(expiring->wait_closed(8s));
  EXPECT_EQ(expiring->close_code(), 4401);
  EXPECT_EQ(expiring->close_reason(), "token expired");
  EXPECT_TRUE(renewed->round_trip());
  EXPECT_FALSE(renewed->closed());

  // Another user's token cannot take over a connection.
  renewed->send(json::serialize(json::object{{"type", "auth"}, {"token", beta_token_}}));
  ASSERT_TRUE(renewed->wait_closed());
  EXPECT_EQ(renewed->close_code(), 4401);
}

TEST_F(LiveFeedTest, AClientThatStopsReadingIsDroppedWhileIngestionGoesOn) {
  // Large readings on many machines, so the slow client's socket and queue fill within seconds.
  std::vector<std::string> keys;
  for (int i = 0; i < 12; ++i) keys.push_back(create_device(alpha_token_, "bulk-" + std::to_string(i)));
  json::object fields;
  for (int i = 0; i < 250; ++i)
    fields["a_rather_long_parameter_name_for_volume_" + std::to_string(i)] = 1000.5 + i;
  const std::string body = json::serialize(fields);

  auto slow = std::make_unique<WebSocketClient>(
      port(),
      WebSocketClientOptions{.subprotocols = {kV1, "bearer." + alpha_token_}, .receive_buffer_bytes = 4096});
  ASSERT_TRUE(slow->next_of_type("ready"));
  auto healthy = connect(alpha_token_);
  for (auto* client : {slow.get(), healthy.get()}) {
    client->send(R"({"type":"subscribe","devices":"*"})");
    ASSERT_TRUE(client->round_trip());
  }
  const double dropped_before = metric("live_clients_dropped_total");
  slow->pause_reading();

  auto slowest = std::chrono::milliseconds::zero();
  int posts = 0;
  bool dropped = false;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (!dropped && std::chrono::steady_clock::now() < deadline) {
    for (const auto& key : keys) {
      const auto started = std::chrono::steady_clock::now();
      auto r = ingest(key, body);
      slowest = std::max(slowest, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - started));
      ASSERT_EQ(r.status, 202) << r.body;
      ++posts;
    }
    dropped = metric("live_clients_dropped_total") > dropped_before;
  }
  ASSERT_TRUE(dropped) << "the slow client was not dropped after " << posts << " readings";
  EXPECT_LT(slowest, 5s) << "ingestion must not wait for a live-feed client";

  // Ingestion and the healthy client go on.
  while (healthy->next(200ms)) {
  }
  ASSERT_EQ(ingest(keys[0], R"({"marker":424242})").status, 202);
  bool marker_seen = false;
  for (int i = 0; i < 200 && !marker_seen; ++i) {
    auto r = healthy->next_of_type("reading", 5s);
    ASSERT_TRUE(r) << "the healthy client stopped receiving";
    marker_seen = r->at("values").as_object().contains("marker");
  }
  EXPECT_TRUE(marker_seen);
  EXPECT_FALSE(healthy->closed());

  // The slow client, reading again, finds its connection ended (1013 when the close frame
  // could still be delivered).
  slow->resume_reading();
  while (slow->next(2s)) {
  }
  ASSERT_TRUE(slow->wait_closed(10s));
  std::cout << "slow client dropped after " << posts << " readings, closed with " << slow->close_code()
            << "\n";
  if (slow->close_code() != 1006) {
    EXPECT_EQ(slow->close_code(), 1013);
    EXPECT_EQ(slow->close_reason(), "too slow");
  }
}

TEST(LiveFeedShutdown, ServerShutdownClosesWith1001) {
  IdentityStack stack("sqlite", "live-feed-shutdown");
  const std::string password = stack.bootstrap("gamma", "owner@gamma.example");
  const std::string token = stack.access_token("gamma", "owner@gamma.example", password);
  WebSocketClient client(stack.server().port(), {.subprotocols = {kV1, "bearer." + token}});
  ASSERT_TRUE(client.open());
  ASSERT_TRUE(client.next_of_type("ready"));
  stack.server().process().signal(SIGTERM);
  ASSERT_TRUE(client.wait_closed(10s));
  EXPECT_EQ(client.close_code(), 1001);
  EXPECT_EQ(client.close_reason(), "server shutting down");
  auto status = stack.server().process().wait(10s);
  ASSERT_TRUE(status) << "serve did not exit after SIGTERM";
  EXPECT_EQ(*status, 0);
}

}  // namespace
}  // namespace factoryops::testing
