// Who may connect to the MQTT broker and what each client may publish or subscribe to: the
// decisions behind /internal/mqtt/authn and /internal/mqtt/authz (EMQX). The topic rules are
// pure functions; MqttAcl adds the device-key lookup through a DeviceKeyCache. Thread-safe; the
// cache must outlive the MqttAcl.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/ids.hpp"
#include "ingest/device_keys.hpp"

namespace factoryops::ingest {

enum class MqttAction { publish, subscribe };

// "publish" | "subscribe" (EMQX's ${action}); nullopt for anything else.
std::optional<MqttAction> parse_mqtt_action(std::string_view text);

// The shared-subscription group of the telemetry role.
constexpr std::string_view kIngestShareGroup = "factoryops-ingest";

// MQTT topic syntax (MQTT 3.1.1 §4.7): a name is non-empty, at most 65535 bytes, without NUL,
// '+' or '#'; a filter may hold '+' as a whole level and '#' as the whole last level.
bool is_valid_topic_name(std::string_view topic);
bool is_valid_topic_filter(std::string_view filter);

// A device may publish exactly factories/{factory}/devices/{device}/telemetry and …/status,
// and subscribe to filters inside factories/{factory}/devices/{device}/# (no wildcard among
// the first four levels, no $share or other $ prefix).
bool device_may(const core::FactoryId& factory, const core::DeviceId& device, MqttAction action,
                std::string_view topic);

// The telemetry role may subscribe to factories/+/devices/+/telemetry and …/status, bare or as
// $share/factoryops-ingest/…, and publish nothing.
bool telemetry_may(MqttAction action, std::string_view topic);

// An answer for the broker and why it was given. `reason` is a short fixed word (a metric
// label, a log field); it never holds a key, a password or a topic.
struct MqttDecision {
  bool allow = false;
  std::string_view reason;
};

class MqttAcl {
 public:
  struct Options {
    std::string telemetry_username;
    std::string telemetry_password;  // empty: the telemetry credential is refused
  };

  MqttAcl(DeviceKeyCache& keys, const Options& options);

  // A client connecting with `username` and `password` (empty when it sent none). A device
  // connects with its API key as username, and as password the key again or nothing.
  // With `may_block` false the answer comes from memory only, and is nullopt when the device
  // key is not cached (the caller retries where blocking is allowed).
  std::optional<MqttDecision> authenticate(std::string_view username, std::string_view password,
                                           bool may_block) const;

  // The client authenticated as `username` wants to publish to or subscribe to `topic`.
  // The device key is checked again, so a revoked key loses its rights at once.
  std::optional<MqttDecision> authorize(std::string_view username, MqttAction action, std::string_view topic,
                                        bool may_block) const;

 private:
  // The key's owner as the cache knows it; the outer nullopt means "not in memory" (only when
  // `may_block` is false).
  std::optional<std::optional<devices::KeyOwner>> owner_of(std::string_view key, bool may_block) const;

  DeviceKeyCache& keys_;
  std::string telemetry_username_;
  std::string telemetry_password_digest_;  // SHA-256 hex; empty when no password is configured
};

}  // namespace factoryops::ingest
