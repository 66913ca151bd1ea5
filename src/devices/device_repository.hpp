// The machine registry's storage: the devices and device_parameters tables. Every function
// takes the FactoryId first and every statement filters by it; the one exception is
// find_by_api_key(), which runs before the factory is known (MQTT and HTTP device auth).
// Functions taking a Connection run inside the caller's transaction; the others borrow a
// pooled connection. Thread-safe; the Database must outlive the repository.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.hpp"
#include "db/database.hpp"

namespace factoryops::devices {

struct Device {
  core::FactoryId factory_id;
  core::DeviceId device_id;
  std::string name;
  std::optional<std::string> type{};  // stored as '' when absent (the column is NOT NULL)
  std::optional<std::string> location{};
  std::optional<std::string> line{};
  std::optional<double> rated_power_kw{};
  std::optional<std::string> metadata_json{};  // a serialised JSON object; stored as JSON null when absent
  std::string api_key_prefix{};
  bool is_enabled = true;
  std::string status = "unknown";  // unknown | online | offline
  std::optional<std::int64_t> last_seen_at_ms{};
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

// The columns a PATCH may set; an engaged outer optional means "set this column".
struct DeviceColumns {
  std::optional<std::string> name{};
  std::optional<std::optional<std::string>> type{};
  std::optional<std::optional<std::string>> location{};
  std::optional<std::optional<std::string>> line{};
  std::optional<std::optional<double>> rated_power_kw{};
  std::optional<std::optional<std::string>> metadata_json{};
  std::optional<bool> is_enabled{};
};

struct DeviceFilter {
  std::int64_t limit = 50;
  std::int64_t offset = 0;
  std::optional<std::string> search{};  // case-insensitive substring of device_id or name
  std::optional<std::string> type{};
  std::optional<std::string> line{};
  std::optional<std::string> location{};
  std::optional<std::string> status{};
};

struct DevicePage {
  std::vector<Device> items;
  std::int64_t total = 0;  // rows matching the filter, ignoring limit and offset
};

// What device authentication needs to know about a key's owner.
struct KeyOwner {
  core::FactoryId factory_id;
  core::DeviceId device_id;
  bool is_enabled = true;
};

struct DeviceParameter {
  std::string parameter_key;
  std::optional<std::string> display_name{};
  std::optional<std::string> unit{};
  std::string data_type = "number";
  bool is_kpi_selected = true;
  std::int64_t first_seen_at_ms = 0;
  std::int64_t last_seen_at_ms = 0;
};

struct ParameterColumns {
  std::optional<std::optional<std::string>> display_name{};
  std::optional<std::optional<std::string>> unit{};
  std::optional<bool> is_kpi_selected{};
};

class DeviceRepository {
 public:
  explicit DeviceRepository(db::Database& db) : db_(db) {}

  // Inserts `device` (all fields as given) with the key's hash. core::Conflict when the
  // device_id is already registered in the factory.
  static void insert(const core::FactoryId& factory_id, db::Connection& conn, const Device& device,
                     std::string_view api_key_hash);

  std::optional<Device> find(const core::FactoryId& factory_id, const core::DeviceId& device_id);
  static std::optional<Device> find(const core::FactoryId& factory_id, db::Connection& conn,
                                    const core::DeviceId& device_id);

  // Ordered by device_id. Limits are the caller's to check.
  DevicePage list(const core::FactoryId& factory_id, const DeviceFilter& filter);

  // Sets the engaged columns and updated_at; false when no such device.
  static bool update(const core::FactoryId& factory_id, db::Connection& conn, const core::DeviceId& device_id,
                     const DeviceColumns& columns, std::int64_t updated_at_ms);

  // Deletes the device and its parameters; false when no such device.
  static bool remove(const core::FactoryId& factory_id, db::Connection& conn,
                     const core::DeviceId& device_id);

  // Replaces hash and prefix in one statement; false when no such device.
  static bool replace_key(const core::FactoryId& factory_id, db::Connection& conn,
                          const core::DeviceId& device_id, std::string_view api_key_hash,
                          std::string_view api_key_prefix, std::int64_t updated_at_ms);

  // The owner of a presented key: one indexed lookup of its SHA-256. nullopt for a key of the
  // wrong shape or one that no device holds (any more).
  std::optional<KeyOwner> find_by_api_key(std::string_view key);

  // Parameters of one device, ordered by parameter_key.
  std::vector<DeviceParameter> list_parameters(const core::FactoryId& factory_id,
                                               const core::DeviceId& device_id);
  static std::optional<DeviceParameter> find_parameter(const core::FactoryId& factory_id,
                                                       db::Connection& conn, const core::DeviceId& device_id,
                                                       std::string_view parameter_key);
  // Sets the engaged columns; false when no such parameter.
  static bool update_parameter(const core::FactoryId& factory_id, db::Connection& conn,
                               const core::DeviceId& device_id, std::string_view parameter_key,
                               const ParameterColumns& columns);

  // Records that `parameter_key` was seen at `seen_at_ms` (ingestion): a new key is inserted
  // with display name and unit unset and is_kpi_selected true; a known key only has
  // last_seen_at and data_type refreshed, so names and KPI choices made by people survive.
  void upsert_parameter(const core::FactoryId& factory_id, const core::DeviceId& device_id,
                        std::string_view parameter_key, std::string_view data_type, std::int64_t seen_at_ms);

 private:
  db::Database& db_;
};

}  // namespace factoryops::devices
