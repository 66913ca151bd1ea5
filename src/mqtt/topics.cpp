#include "mqtt/topics.hpp"

#include <boost/json.hpp>

namespace factoryops::mqtt {

namespace {

// Splits off the next '/'-separated level.
bool next_level(std::string_view& rest, std::string_view& level) {
  if (rest.empty()) return false;
  auto slash = rest.find('/');
  level = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  return true;
}

}  // namespace

std::optional<DeviceTopic> parse_device_topic(std::string_view topic) {
  std::string_view rest = topic;
  std::string_view factories, factory, devices, device, kind;
  if (!next_level(rest, factories) || factories != "factories") return std::nullopt;
  if (!next_level(rest, factory) || !core::is_valid_slug(factory)) return std::nullopt;
  if (!next_level(rest, devices) || devices != "devices") return std::nullopt;
  if (!next_level(rest, device) || !core::is_valid_slug(device)) return std::nullopt;
  if (!next_level(rest, kind) || !rest.empty() || topic.back() == '/') return std::nullopt;
  TopicKind parsed;
  if (kind == "telemetry") {
    parsed = TopicKind::telemetry;
  } else if (kind == "status") {
    parsed = TopicKind::status;
  } else {
    return std::nullopt;
  }
  return DeviceTopic{core::FactoryId(factory), core::DeviceId(device), parsed};
}

std::string device_topic_root(const core::FactoryId& factory, const core::DeviceId& device) {
  return "factories/" + factory.str() + "/devices/" + device.str() + "/";
}

std::string device_topic(const core::FactoryId& factory, const core::DeviceId& device, TopicKind kind) {
  return device_topic_root(factory, device) + (kind == TopicKind::telemetry ? "telemetry" : "status");
}

std::string shared_filter(TopicKind kind) {
  return "$share/" + std::string(kShareGroup) + "/factories/+/devices/+/" +
         (kind == TopicKind::telemetry ? "telemetry" : "status");
}

std::string subscription_filter(TopicKind kind, std::string_view group) {
  std::string filter =
      std::string("factories/+/devices/+/") + (kind == TopicKind::telemetry ? "telemetry" : "status");
  if (group.empty()) return filter;
  return "$share/" + std::string(group) + "/" + filter;
}

std::optional<bool> parse_status(std::string_view payload) {
  while (!payload.empty() && (payload.front() == ' ' || payload.front() == '\n')) payload.remove_prefix(1);
  while (!payload.empty() && (payload.back() == ' ' || payload.back() == '\n' || payload.back() == '\r'))
    payload.remove_suffix(1);
  if (payload == "online" || payload == "\"online\"") return true;
  if (payload == "offline" || payload == "\"offline\"") return false;
  if (payload.empty() || payload.front() != '{' || payload.size() > 4096) return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(payload, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& object = value.as_object();
  if (const auto* status = object.if_contains("status"); status != nullptr && status->is_string()) {
    if (status->as_string() == "online") return true;
    if (status->as_string() == "offline") return false;
  }
  if (const auto* online = object.if_contains("online"); online != nullptr && online->is_bool())
    return online->as_bool();
  return std::nullopt;
}

}  // namespace factoryops::mqtt
