// What the machine registry needs from the MQTT broker's credential store: a device's API key
// is its MQTT username, so the broker learns each key when it is issued and forgets it when it
// is rotated away or the device is deleted (DESIGN §6, HLD §5.4). Implementations talk to the
// broker (Mosquitto's dynamic security); every call throws core::Unavailable when the broker
// cannot be reached, so the registry can refuse the change rather than diverge from the broker.
#pragma once

#include <string>

#include "core/ids.hpp"

namespace factoryops::devices {

class BrokerCredentials {
 public:
  virtual ~BrokerCredentials() = default;
  // Lets `api_key` connect as the device, allowed to publish only under its own topics; keys
  // the device already has keep working until revoked.
  virtual void grant(const core::FactoryId& factory, const core::DeviceId& device, const std::string& api_key,
                     bool enabled) = 0;
  // Removes every key of the device except `keep_key` (empty: every key); connected clients
  // using a removed key are disconnected.
  virtual void revoke(const core::FactoryId& factory, const core::DeviceId& device,
                      const std::string& keep_key) = 0;
  // Removes one key, whoever it belongs to (undoing a grant whose transaction failed).
  virtual void revoke_key(const std::string& api_key) = 0;
  virtual void set_enabled(const core::FactoryId& factory, const core::DeviceId& device, bool enabled) = 0;
};

}  // namespace factoryops::devices
