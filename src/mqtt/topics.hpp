// The fixed MQTT topic layout (DESIGN §6): factories/{factory_id}/devices/{device_id}/telemetry
// for readings and …/status for online/offline (retained, also the device's last will).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/ids.hpp"
#include "ingest/mqtt_acl.hpp"

namespace factoryops::mqtt {

enum class TopicKind { telemetry, status };

struct DeviceTopic {
  core::FactoryId factory;
  core::DeviceId device;
  TopicKind kind = TopicKind::telemetry;
};

// nullopt for any other topic, or when an id is not a valid slug.
std::optional<DeviceTopic> parse_device_topic(std::string_view topic);

std::string device_topic(const core::FactoryId& factory, const core::DeviceId& device, TopicKind kind);
// factories/{factory}/devices/{device}/# : what a device may publish under.
std::string device_topic_root(const core::FactoryId& factory, const core::DeviceId& device);

// What the telemetry role subscribes to, in the shared group that spreads messages over replicas.
inline constexpr std::string_view kShareGroup = ingest::kIngestShareGroup;
std::string shared_filter(TopicKind kind);
// factories/+/devices/+/<kind> under $share/<group>/, or without a share group when `group` is empty.
std::string subscription_filter(TopicKind kind, std::string_view group);

// A status payload: "online"/"offline", or {"status":"online"|"offline"} / {"online":true|false}.
std::optional<bool> parse_status(std::string_view payload);

}  // namespace factoryops::mqtt
