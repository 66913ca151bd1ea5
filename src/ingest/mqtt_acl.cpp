#include "ingest/mqtt_acl.hpp"

#include <array>

#include "auth/crypto.hpp"

namespace factoryops::ingest {
namespace {

constexpr std::size_t kMaxTopicBytes = 65535;
constexpr std::string_view kSharePrefix = "$share/";
constexpr std::array<std::string_view, 2> kIngestFilters = {"factories/+/devices/+/telemetry",
                                                            "factories/+/devices/+/status"};

// Compares digests, so neither the content nor the length of the secret leaks through timing.
bool same_secret(std::string_view presented, const std::string& expected_digest) {
  if (expected_digest.empty()) return false;
  return auth::constant_time_equals(auth::sha256_hex(presented), expected_digest);
}

// Calls `level` for each '/'-separated level (empty levels included); stops when it returns false.
template <typename F>
bool every_level(std::string_view topic, F level) {
  while (true) {
    auto slash = topic.find('/');
    if (!level(topic.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    topic.remove_prefix(slash + 1);
  }
}

bool basic_topic_checks(std::string_view topic) {
  return !topic.empty() && topic.size() <= kMaxTopicBytes && topic.find('\0') == std::string_view::npos;
}

}  // namespace

std::optional<MqttAction> parse_mqtt_action(std::string_view text) {
  if (text == "publish") return MqttAction::publish;
  if (text == "subscribe") return MqttAction::subscribe;
  return std::nullopt;
}

bool is_valid_topic_name(std::string_view topic) {
  return basic_topic_checks(topic) && topic.find_first_of("+#") == std::string_view::npos;
}

bool is_valid_topic_filter(std::string_view filter) {
  if (!basic_topic_checks(filter)) return false;
  bool after_hash = false;
  return every_level(filter, [&](std::string_view level) {
    if (after_hash) return false;  // '#' must be the last level
    if (level == "#") {
      after_hash = true;
      return true;
    }
    return level == "+" || level.find_first_of("+#") == std::string_view::npos;
  });
}

bool device_may(const core::FactoryId& factory, const core::DeviceId& device, MqttAction action,
                std::string_view topic) {
  // Slugs hold no '/', '+', '#' or '$', so the device's own subtree is this literal prefix.
  const std::string own = "factories/" + factory.str() + "/devices/" + device.str();
  if (action == MqttAction::publish) {
    return topic == own + "/telemetry" || topic == own + "/status";
  }
  if (!is_valid_topic_filter(topic)) return false;
  // `own` itself is inside own/# (a '#' filter matches its parent level too).
  if (topic == own) return true;
  return topic.size() > own.size() && topic.starts_with(own) && topic[own.size()] == '/';
}

bool telemetry_may(MqttAction action, std::string_view topic) {
  if (action != MqttAction::subscribe) return false;
  if (topic.starts_with(kSharePrefix)) {
    topic.remove_prefix(kSharePrefix.size());
    if (!topic.starts_with(kIngestShareGroup) || topic.size() <= kIngestShareGroup.size() ||
        topic[kIngestShareGroup.size()] != '/')
      return false;
    topic.remove_prefix(kIngestShareGroup.size() + 1);
  }
  for (auto filter : kIngestFilters)
    if (topic == filter) return true;
  return false;
}

MqttAcl::MqttAcl(DeviceKeyCache& keys, const Options& options)
    : keys_(keys),
      telemetry_username_(options.telemetry_username),
      telemetry_password_digest_(
          options.telemetry_password.empty() ? std::string() : auth::sha256_hex(options.telemetry_password)) {
}

std::optional<std::optional<devices::KeyOwner>> MqttAcl::owner_of(std::string_view key,
                                                                  bool may_block) const {
  if (may_block) return keys_.find(key);
  auto cached = keys_.find_cached(key);
  if (!cached) return std::nullopt;
  return cached->owner;
}

std::optional<MqttDecision> MqttAcl::authenticate(std::string_view username, std::string_view password,
                                                  bool may_block) const {
  if (username.empty()) return MqttDecision{false, "no_username"};
  // The telemetry user is checked first, so its name can never fall through to a key lookup.
  if (!telemetry_username_.empty() && username == telemetry_username_) {
    if (same_secret(password, telemetry_password_digest_)) return MqttDecision{true, "telemetry"};
    return MqttDecision{false, "bad_password"};
  }
  auto owner = owner_of(username, may_block);
  if (!owner) return std::nullopt;
  if (!*owner) return MqttDecision{false, "unknown_key"};
  if (!(*owner)->is_enabled) return MqttDecision{false, "device_disabled"};
  // The password is optional for devices; when sent it must repeat the key.
  if (!password.empty() && !same_secret(password, auth::sha256_hex(username)))
    return MqttDecision{false, "bad_password"};
  return MqttDecision{true, "device"};
}

std::optional<MqttDecision> MqttAcl::authorize(std::string_view username, MqttAction action,
                                               std::string_view topic, bool may_block) const {
  if (username.empty()) return MqttDecision{false, "no_username"};
  if (!telemetry_username_.empty() && username == telemetry_username_) {
    if (telemetry_may(action, topic)) return MqttDecision{true, "telemetry"};
    return MqttDecision{false, "topic"};
  }
  auto owner = owner_of(username, may_block);
  if (!owner) return std::nullopt;
  if (!*owner) return MqttDecision{false, "unknown_key"};
  if (!(*owner)->is_enabled) return MqttDecision{false, "device_disabled"};
  if (device_may((*owner)->factory_id, (*owner)->device_id, action, topic))
    return MqttDecision{true, "device"};
  return MqttDecision{false, "topic"};
}

}  // namespace factoryops::ingest
