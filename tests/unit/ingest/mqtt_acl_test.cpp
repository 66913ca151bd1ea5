// The broker rules: which topics a device and the telemetry role may publish and subscribe to,
// topic syntax, and who may connect (device keys, the telemetry credential), including the
// memory-only answers the network thread relies on.
#include "ingest/mqtt_acl.hpp"

#include <gtest/gtest.h>

#include <map>

#include "devices/api_key.hpp"

namespace factoryops::ingest {
namespace {

const core::FactoryId kAcme("acme");
const core::DeviceId kPress("press-1");

bool press_may(MqttAction action, std::string_view topic) {
  return device_may(kAcme, kPress, action, topic);
}

TEST(MqttAcl, ParsesEmqxActions) {
  EXPECT_EQ(parse_mqtt_action("publish"), MqttAction::publish);
  EXPECT_EQ(parse_mqtt_action("subscribe"), MqttAction::subscribe);
  EXPECT_FALSE(parse_mqtt_action("all").has_value());
  EXPECT_FALSE(parse_mqtt_action("Publish").has_value());
  EXPECT_FALSE(parse_mqtt_action("").has_value());
}

TEST(MqttAcl, TopicSyntax) {
  EXPECT_TRUE(is_valid_topic_name("factories/acme/devices/press-1/telemetry"));
  EXPECT_TRUE(is_valid_topic_name("a//b"));
  EXPECT_FALSE(is_valid_topic_name(""));
  EXPECT_FALSE(is_valid_topic_name("a/+/b"));
  EXPECT_FALSE(is_valid_topic_name("a/#"));
  EXPECT_FALSE(is_valid_topic_name(std::string_view("a\0b", 3)));
  EXPECT_FALSE(is_valid_topic_name(std::string(65536, 'a')));

  EXPECT_TRUE(is_valid_topic_filter("#"));
  EXPECT_TRUE(is_valid_topic_filter("a/+/b/#"));
  EXPECT_TRUE(is_valid_topic_filter("+"));
  EXPECT_FALSE(is_valid_topic_filter("a/#/b"));
  EXPECT_FALSE(is_valid_topic_filter("a/b#"));
  EXPECT_FALSE(is_valid_topic_filter("a/b+/c"));
  EXPECT_FALSE(is_valid_topic_filter(""));
}

TEST(MqttAcl, ADevicePublishesOnlyItsOwnTelemetryAndStatus) {
  EXPECT_TRUE(press_may(MqttAction::publish, "factories/acme/devices/press-1/telemetry"));
  EXPECT_TRUE(press_may(MqttAction::publish, "factories/acme/devices/press-1/status"));

  for (const char* topic : {
           "factories/acme/devices/press-2/telemetry",    // another device
           "factories/rival/devices/press-1/telemetry",   // the same id in another factory
           "factories/acme/devices/press-10/telemetry",   // an id that only starts like ours
           "factories/acme/devices/press-1/telemetry/x",  // below our topic
           "factories/acme/devices/press-1/commands",     // not a device-to-cloud topic
           "factories/acme/devices/press-1",
           "factories/acme/devices/+/telemetry",
           "factories/acme/devices/press-1/#",
           "$share/factoryops-ingest/factories/acme/devices/press-1/telemetry",
           "/factories/acme/devices/press-1/telemetry",
           "Factories/acme/devices/press-1/telemetry",
           "",
       }) {
    EXPECT_FALSE(press_may(MqttAction::publish, topic)) << topic;
  }
}

TEST(MqttAcl, ADeviceSubscribesOnlyInsideItsOwnSubtree) {
  for (const char* filter : {
           "factories/acme/devices/press-1/#",
           "factories/acme/devices/press-1/commands",
           "factories/acme/devices/press-1/+",
           "factories/acme/devices/press-1/config/+/set",
           "factories/acme/devices/press-1",
       }) {
    EXPECT_TRUE(press_may(MqttAction::subscribe, filter)) << filter;
  }
  for (const char* filter : {
           "#",
           "factories/#",
           "factories/acme/#",
           "factories/acme/devices/#",
           "factories/acme/devices/+/telemetry",
           "factories/+/devices/press-1/#",
           "factories/acme/devices/press-2/#",
           "factories/acme/devices/press-10/#",
           "factories/acme/devices/press-1#",
           "factories/rival/devices/press-1/#",
           "factories/acme/devices/press-1/#/x",  // not a valid filter
           "$share/any/factories/acme/devices/press-1/#",
           "$SYS/#",
           "",
       }) {
    EXPECT_FALSE(press_may(MqttAction::subscribe, filter)) << filter;
  }
}

TEST(MqttAcl, TheTelemetryRoleSubscribesToTheIngestFiltersAndPublishesNothing) {
  for (const char* filter : {
           "$share/factoryops-ingest/factories/+/devices/+/telemetry",
           "$share/factoryops-ingest/factories/+/devices/+/status",
           "factories/+/devices/+/telemetry",
           "factories/+/devices/+/status",
       }) {
    EXPECT_TRUE(telemetry_may(MqttAction::subscribe, filter)) << filter;
    EXPECT_FALSE(telemetry_may(MqttAction::publish, filter)) << filter;
  }
  for (const char* filter : {
           "#",
           "factories/#",
           "factories/+/devices/+/#",
           "factories/+/devices/+/commands",
           "factories/acme/devices/+/telemetry",
           "$share/other-group/factories/+/devices/+/telemetry",
           "$share/factoryops-ingestx/factories/+/devices/+/telemetry",
           "$share/factoryops-ingest",
           "$share/factoryops-ingest/",
           "$queue/factories/+/devices/+/telemetry",
           "$SYS/#",
       }) {
    EXPECT_FALSE(telemetry_may(MqttAction::subscribe, filter)) << filter;
  }
  EXPECT_FALSE(telemetry_may(MqttAction::publish, "factories/acme/devices/press-1/telemetry"));
}

class MqttAclTest : public ::testing::Test {
 protected:
  MqttAclTest() {
    owners_.emplace(press_key_, devices::KeyOwner{kAcme, kPress, true});
    owners_.emplace(idle_key_, devices::KeyOwner{kAcme, core::DeviceId("idle-1"), false});
  }

  std::string press_key_ = devices::generate_api_key();
  std::string idle_key_ = devices::generate_api_key();
  std::map<std::string, devices::KeyOwner, std::less<>> owners_;
  int lookups_ = 0;
  DeviceKeyCache keys_{[this](std::string_view key) -> std::optional<devices::KeyOwner> {
    ++lookups_;
    auto it = owners_.find(key);
    if (it == owners_.end()) return std::nullopt;
    return it->second;
  }};
  MqttAcl acl_{keys_, {"factoryops-telemetry", "telemetry-password"}};

  // Blocking answers always exist.
  MqttDecision authn(std::string_view username, std::string_view password) {
    return acl_.authenticate(username, password, true).value();
  }
  MqttDecision authz(std::string_view username, MqttAction action, std::string_view topic) {
    return acl_.authorize(username, action, topic, true).value();
  }
};

TEST_F(MqttAclTest, DevicesConnectWithTheirKeyAndAnEmptyOrRepeatedPassword) {
  EXPECT_TRUE(authn(press_key_, "").allow);
  EXPECT_TRUE(authn(press_key_, press_key_).allow);
  EXPECT_EQ(authn(press_key_, "").reason, "device");

  auto mismatch = authn(press_key_, "something-else");
  EXPECT_FALSE(mismatch.allow);
  EXPECT_EQ(mismatch.reason, "bad_password");
  EXPECT_FALSE(authn(press_key_, idle_key_).allow);

  auto disabled = authn(idle_key_, "");
  EXPECT_FALSE(disabled.allow);
  EXPECT_EQ(disabled.reason, "device_disabled");

  auto unknown = authn(devices::generate_api_key(), "");
  EXPECT_FALSE(unknown.allow);
  EXPECT_EQ(unknown.reason, "unknown_key");
  EXPECT_FALSE(authn("not-a-key", "").allow);
  EXPECT_EQ(authn("", "").reason, "no_username");
}

TEST_F(MqttAclTest, TheTelemetryCredentialNeedsItsExactPassword) {
  EXPECT_TRUE(authn("factoryops-telemetry", "telemetry-password").allow);
  EXPECT_EQ(authn("factoryops-telemetry", "telemetry-password").reason, "telemetry");
  EXPECT_FALSE(authn("factoryops-telemetry", "telemetry-passwor").allow);
  EXPECT_FALSE(authn("factoryops-telemetry", "telemetry-password ").allow);
  EXPECT_FALSE(authn("factoryops-telemetry", "").allow);
  EXPECT_FALSE(authn("factoryops-admin", "telemetry-password").allow);

  // Without a configured password the telemetry name is refused, even with an empty password.
  MqttAcl open_acl(keys_, {"factoryops-telemetry", ""});
  EXPECT_FALSE(open_acl.authenticate("factoryops-telemetry", "", true)->allow);
}

TEST_F(MqttAclTest, AuthorizationChecksTheKeyAgainAndAppliesTheTopicRules) {
  EXPECT_TRUE(authz(press_key_, MqttAction::publish, "factories/acme/devices/press-1/telemetry").allow);
  auto foreign = authz(press_key_, MqttAction::publish, "factories/acme/devices/idle-1/telemetry");
  EXPECT_FALSE(foreign.allow);
  EXPECT_EQ(foreign.reason, "topic");
  EXPECT_FALSE(authz(press_key_, MqttAction::subscribe, "factories/+/devices/+/telemetry").allow);
  EXPECT_FALSE(authz(idle_key_, MqttAction::publish, "factories/acme/devices/idle-1/telemetry").allow);
  EXPECT_EQ(
      authz(devices::generate_api_key(), MqttAction::publish, "factories/acme/devices/press-1/telemetry")
          .reason,
      "unknown_key");

  EXPECT_TRUE(authz("factoryops-telemetry", MqttAction::subscribe,
                    "$share/factoryops-ingest/factories/+/devices/+/telemetry")
                  .allow);
  EXPECT_FALSE(
      authz("factoryops-telemetry", MqttAction::publish, "factories/acme/devices/press-1/telemetry").allow);
  EXPECT_FALSE(authz("someone", MqttAction::subscribe, "factories/+/devices/+/telemetry").allow);
}

TEST_F(MqttAclTest, MemoryOnlyAnswersWaitForAWarmCacheAndForgetARevokedKey) {
  // Cold: only the lookup could answer, and a memory-only call must not make it.
  EXPECT_FALSE(acl_.authenticate(press_key_, "", false).has_value());
  EXPECT_FALSE(acl_.authorize(press_key_, MqttAction::publish, "x", false).has_value());
  EXPECT_EQ(lookups_, 0);

  // Answers that need no key come from memory at once.
  EXPECT_TRUE(acl_.authenticate("factoryops-telemetry", "telemetry-password", false)->allow);
  EXPECT_FALSE(acl_.authenticate("not-a-key", "", false)->allow);

  EXPECT_TRUE(authn(press_key_, "").allow);  // warms the cache
  EXPECT_EQ(lookups_, 1);
  EXPECT_TRUE(acl_.authenticate(press_key_, "", false)->allow);
  EXPECT_TRUE(
      acl_.authorize(press_key_, MqttAction::publish, "factories/acme/devices/press-1/status", false)->allow);
  EXPECT_EQ(lookups_, 1);

  // An unknown key is remembered as unknown too.
  const std::string stranger = devices::generate_api_key();
  EXPECT_FALSE(authn(stranger, "").allow);
  EXPECT_FALSE(acl_.authenticate(stranger, "", false)->allow);

  // Disabling the device: the change hook invalidates, the next memory-only call cannot answer,
  // and the blocking one sees the new state.
  owners_.at(press_key_).is_enabled = false;
  keys_.invalidate(kAcme, kPress);
  EXPECT_FALSE(acl_.authenticate(press_key_, "", false).has_value());
  EXPECT_FALSE(authn(press_key_, "").allow);
  EXPECT_FALSE(acl_.authenticate(press_key_, "", false)->allow);
}

}  // namespace
}  // namespace factoryops::ingest
