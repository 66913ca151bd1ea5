// Device credentials on Mosquitto through its dynamic-security plugin (shipped with Debian's
// mosquitto): commands are JSON published to $CONTROL/dynamic-security/v1 with an admin
// credential, answers come back on …/response. Each device gets a role allowed to publish only
// to factories/{factory}/devices/{device}/telemetry and …/status, and one broker client per
// API key (username = key, password = key) named "device {factory}/{device}". The telemetry
// role's own client may only subscribe to the shared telemetry and status filters. Broker
// defaults deny every other publish and subscribe. Thread-safe: commands run one at a time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "devices/broker_credentials.hpp"
#include "devices/device_repository.hpp"
#include "mqtt/client.hpp"

namespace factoryops::mqtt {

struct DynamicSecurityOptions {
  BrokerAddress broker{};
  std::string admin_username;
  std::string admin_password;
  std::chrono::milliseconds timeout{5000};  // per command, including connecting
};

class DynamicSecurity : public devices::BrokerCredentials {
 public:
  explicit DynamicSecurity(DynamicSecurityOptions options);
  ~DynamicSecurity() override;

  void grant(const core::FactoryId& factory, const core::DeviceId& device, const std::string& api_key,
             bool enabled) override;
  void revoke(const core::FactoryId& factory, const core::DeviceId& device,
              const std::string& keep_key) override;
  void revoke_key(const std::string& api_key) override;
  void set_enabled(const core::FactoryId& factory, const core::DeviceId& device, bool enabled) override;

  // Creates (or re-keys) the telemetry role's broker client.
  void ensure_telemetry_client(const std::string& username, const std::string& password);

  // Removes broker clients whose key no longer belongs to the device they were made for (a
  // deleted device, a key rotated while the broker was away) and aligns enabled/disabled.
  // `owner_of_key` is the registry's lookup. Returns the number of clients changed.
  using OwnerLookup = std::function<std::optional<devices::KeyOwner>(std::string_view api_key)>;
  std::size_t reconcile(const OwnerLookup& owner_of_key);

  // Runs dynamic-security commands and returns their responses, in order. A response carrying
  // "error" is returned as is. Throws core::Unavailable when the broker does not answer.
  boost::json::array execute(boost::json::array commands);

 private:
  struct DeviceClient {
    std::string username;
    bool disabled = false;
  };
  std::vector<DeviceClient> clients_of(const core::FactoryId& factory, const core::DeviceId& device);
  void connect_locked(std::unique_lock<std::mutex>& lock);

  const DynamicSecurityOptions options_;
  std::mutex command_mutex_;  // one command at a time
  std::mutex mutex_;          // guards what follows, shared with the network thread
  std::condition_variable answered_;
  std::unique_ptr<Client> client_;
  std::uint64_t next_correlation_ = 1;
  std::string awaited_;
  std::optional<boost::json::value> answer_;
};

// "device {factory}/{device}": how broker clients made for a device are named.
std::string device_client_name(const core::FactoryId& factory, const core::DeviceId& device);

}  // namespace factoryops::mqtt
