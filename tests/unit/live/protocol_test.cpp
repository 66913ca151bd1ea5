// The live feed's wire format: subprotocol offers, client messages (and why bad ones are
// refused), and the exact JSON of every server message the dashboard reads.
#include "live/protocol.hpp"

#include <gtest/gtest.h>

#include <array>

namespace factoryops::live {
namespace {

OfferedProtocols offers(std::initializer_list<std::string_view> values) {
  std::vector<std::string_view> v(values);
  return parse_subprotocols(v);
}

TEST(LiveProtocol, SubprotocolsCarryTheVersionAndOptionallyTheToken) {
  auto both = offers({"factoryops.v1, bearer.eyJhbGciOi.eyJzdWIi.c2ln"});
  EXPECT_TRUE(both.any);
  EXPECT_TRUE(both.v1);
  EXPECT_EQ(both.token, "eyJhbGciOi.eyJzdWIi.c2ln");

  auto repeated_header = offers({"bearer.abc", "factoryops.v1"});
  EXPECT_TRUE(repeated_header.v1);
  EXPECT_EQ(repeated_header.token, "abc");

  auto only_version = offers({"factoryops.v1"});
  EXPECT_TRUE(only_version.v1);
  EXPECT_FALSE(only_version.token);

  auto none = offers({});
  EXPECT_FALSE(none.any);
  auto other = offers({"chat, superchat"});
  EXPECT_TRUE(other.any);
  EXPECT_FALSE(other.v1);
}

TEST(LiveProtocol, ParsesEveryClientMessage) {
  auto auth = parse_client_message(R"({"type":"auth","token":"t.o.k"})");
  ASSERT_TRUE(auth.message);
  EXPECT_EQ(std::get<AuthMessage>(*auth.message).token, "t.o.k");

  auto all = parse_client_message(R"({"type":"subscribe","devices":"*"})");
  ASSERT_TRUE(all.message) << all.problem;
  const auto& every = std::get<SubscribeMessage>(*all.message);
  EXPECT_TRUE(every.devices.all);
  EXPECT_FALSE(every.params);

  auto listed =
      parse_client_message(R"({"type":"subscribe","devices":["d1","d2","d1"],"params":["power_kw","l1.v"]})");
  ASSERT_TRUE(listed.message) << listed.problem;
  const auto& some = std::get<SubscribeMessage>(*listed.message);
  EXPECT_FALSE(some.devices.all);
  EXPECT_EQ(some.devices.ids, (std::vector<std::string>{"d1", "d2"}));
  EXPECT_EQ(some.params, (std::vector<std::string>{"power_kw", "l1.v"}));

  auto unsubscribe = parse_client_message(R"({"type":"unsubscribe","devices":["d2"]})");
  ASSERT_TRUE(unsubscribe.message);
  EXPECT_EQ(std::get<UnsubscribeMessage>(*unsubscribe.message).devices.ids, std::vector<std::string>{"d2"});

  auto ping = parse_client_message(R"({"type":"ping","id":7})");
  ASSERT_TRUE(ping.message);
  EXPECT_TRUE(std::holds_alternative<PingMessage>(*ping.message));
}

TEST(LiveProtocol, RefusesMalformedMessagesWithAReason) {
  for (const char* text :
       {"not json", "[]", R"({"devices":"*"})", R"({"type":7})", R"({"type":"dance"})", R"({"type":"auth"})",
        R"({"type":"auth","token":""})", R"({"type":"subscribe"})", R"({"type":"subscribe","devices":[]})",
        R"({"type":"subscribe","devices":"all"})", R"({"type":"subscribe","devices":[1]})",
        R"({"type":"subscribe","devices":"*","params":[]})",
        R"({"type":"subscribe","devices":"*","params":["bad key"]})",
        R"({"type":"unsubscribe","devices":{}})"}) {
    auto parsed = parse_client_message(text);
    EXPECT_FALSE(parsed.message) << text;
    EXPECT_FALSE(parsed.problem.empty()) << text;
  }
  std::string many = R"({"type":"subscribe","devices":[)";
  for (int i = 0; i <= 500; ++i) many += (i ? ",\"d" : "\"d") + std::to_string(i) + "\"";
  many += "]}";
  EXPECT_FALSE(parse_client_message(many).message);
}

TEST(LiveProtocol, ServerMessagesHaveTheDocumentedShape) {
  EXPECT_EQ(ready_message(core::FactoryId("alpha"), 42, 1'764'259'385'000),
            R"({"type":"ready","factory_id":"alpha","user_id":42,"expires_at":"2025-11-27T16:03:05.000Z"})");
  EXPECT_EQ(pong_message(), R"({"type":"pong"})");
  EXPECT_EQ(error_message("invalid_message", "a message must be a JSON object"),
            R"({"type":"error","code":"invalid_message","message":"a message must be a JSON object"})");
  EXPECT_EQ(error_message("not_found", "machine 'x\"' not found", std::string_view("x\"")),
            R"({"type":"error","code":"not_found","message":"machine 'x\"' not found","device_id":"x\""})");
  const std::array<std::pair<std::string, double>, 3> values{
      {{"power_kw", 12.5}, {"rpm", 1450}, {"temp", -0.1}}};
  EXPECT_EQ(reading_message("press-1", 1'764'259'385'361, values),
            R"({"type":"reading","device_id":"press-1","ts":1764259385361,)"
            R"("values":{"power_kw":12.5,"rpm":1450,"temp":-0.1}})");
  EXPECT_EQ(
      status_message("press-1", true, 1'764'259'385'361),
      R"({"type":"status","device_id":"press-1","online":true,"last_seen_at":"2025-11-27T16:03:05.361Z"})");
  EXPECT_EQ(status_message("press-1", false, 0),
            R"({"type":"status","device_id":"press-1","online":false,"last_seen_at":null})");
}

}  // namespace
}  // namespace factoryops::live
