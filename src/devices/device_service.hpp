// The machine registry's rules: field validation, API key issue and rotation, and the audit
// trail, over DeviceRepository. Every function takes the caller's FactoryContext first and
// sees only that factory's machines; another factory's device is "not found". Writes and
// their audit entries commit in one transaction. Thread-safe; the Database must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/context.hpp"
#include "db/database.hpp"
#include "devices/broker_credentials.hpp"
#include "devices/device_repository.hpp"

namespace factoryops::devices {

constexpr std::size_t kMaxNameChars = 120;
constexpr std::size_t kMaxTypeChars = 64;  // devices.type is VARCHAR(64) in MySQL
constexpr std::size_t kMaxLocationChars = 120;
constexpr std::size_t kMaxDisplayNameChars = 120;
constexpr std::size_t kMaxUnitChars = 32;
constexpr std::size_t kMaxMetadataBytes = 16 * 1024;
constexpr std::int64_t kDefaultPageSize = 50;
constexpr std::int64_t kMaxPageSize = 500;

struct NewDevice {
  std::string device_id;
  std::string name;
  std::optional<std::string> type{};
  std::optional<std::string> location{};
  std::optional<std::string> line{};
  std::optional<double> rated_power_kw{};
  std::optional<std::string> metadata_json{};  // must hold a JSON object
};

// A device together with a key that is shown this once and never stored.
struct DeviceWithKey {
  Device device;
  std::string api_key;
};

class DeviceService {
 public:
  explicit DeviceService(db::Database& db) : db_(db), devices_(db) {}

  // core::Invalid naming the field; core::Conflict when the id is taken in this factory.
  DeviceWithKey create(const auth::FactoryContext& context, const NewDevice& input);
  // core::Invalid naming "limit", "offset" or "status" for values out of range.
  DevicePage list(const auth::FactoryContext& context, const DeviceFilter& filter);
  // core::NotFound unless the device belongs to the caller's factory.
  Device get(const auth::FactoryContext& context, std::string_view device_id);
  // Applies the engaged fields (same validation as create) and bumps updated_at.
  Device update(const auth::FactoryContext& context, std::string_view device_id,
                const DeviceColumns& changes);
  // Removes the device and its parameters. Alerts keep their history: they name the device
  // by id and have no foreign key to it.
  void remove(const auth::FactoryContext& context, std::string_view device_id);
  // Issues a new key; the old one stops working at commit.
  DeviceWithKey rotate_key(const auth::FactoryContext& context, std::string_view device_id);

  std::vector<DeviceParameter> parameters(const auth::FactoryContext& context, std::string_view device_id);
  DeviceParameter update_parameter(const auth::FactoryContext& context, std::string_view device_id,
                                   std::string_view parameter_key, const ParameterColumns& changes);

  DeviceRepository& repository() { return devices_; }

  // The broker that must know every key (null: none, e.g. EMQX asks us instead). Set before
  // serving. With a broker, creating, rotating, disabling and deleting fail with
  // core::Unavailable (and change nothing) while it cannot be reached.
  void set_broker(BrokerCredentials* broker) { broker_ = broker; }

  // Called after every committed change of a device or its parameters (caches of device
  // data subscribe). Register listeners before serving; they must be cheap and not throw.
  using ChangeListener = std::function<void(const core::FactoryId&, const core::DeviceId&)>;
  void on_change(ChangeListener listener);
  // For writers outside this service (ingestion refreshing last_seen_at and status).
  void notify_changed(const core::FactoryId& factory_id, const core::DeviceId& device_id);

 private:
  db::Database& db_;
  DeviceRepository devices_;
  void commit_or_take_back(db::Transaction& tx, const std::string& key);

  std::vector<ChangeListener> listeners_;
  BrokerCredentials* broker_ = nullptr;
};

}  // namespace factoryops::devices
