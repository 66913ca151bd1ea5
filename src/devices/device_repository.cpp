#include "devices/device_repository.hpp"

#include "core/errors.hpp"
#include "db/clock.hpp"
#include "db/dialect.hpp"
#include "devices/api_key.hpp"

namespace factoryops::devices {
namespace {

constexpr std::string_view kDeviceColumns =
    "factory_id, device_id, name, type, location, line, rated_power_kw, metadata, api_key_prefix, "
    "is_enabled, status, last_seen_at, created_at, updated_at";

constexpr std::string_view kParameterColumns =
    "parameter_key, display_name, unit, data_type, is_kpi_selected, first_seen_at, last_seen_at";

// The metadata column is NOT NULL, so "no metadata" is stored as the JSON literal null.
constexpr std::string_view kNoMetadata = "null";

Device device_from_row(const db::Row& row) {
  Device d{core::FactoryId(row.get_string(0)), core::DeviceId(row.get_string(1)), row.get_string(2)};
  std::string type = row.get_string(3);
  if (!type.empty()) d.type = std::move(type);
  d.location = row.get_optional_string(4);
  d.line = row.get_optional_string(5);
  d.rated_power_kw = row.get_optional_double(6);
  std::string metadata = row.get_string(7);
  if (metadata != kNoMetadata) d.metadata_json = std::move(metadata);
  d.api_key_prefix = row.get_string(8);
  d.is_enabled = row.get_bool(9);
  d.status = row.get_string(10);
  d.last_seen_at_ms = row.get_optional_int(11);
  d.created_at_ms = row.get_int(12);
  d.updated_at_ms = row.get_int(13);
  return d;
}

DeviceParameter parameter_from_row(const db::Row& row) {
  DeviceParameter p;
  p.parameter_key = row.get_string(0);
  p.display_name = row.get_optional_string(1);
  p.unit = row.get_optional_string(2);
  p.data_type = row.get_string(3);
  p.is_kpi_selected = row.get_bool(4);
  p.first_seen_at_ms = row.get_int(5);
  p.last_seen_at_ms = row.get_int(6);
  return p;
}

db::Value to_value(const std::optional<std::string>& v) {
  return v ? db::Value(*v) : db::Value(nullptr);
}

// LIKE treats % and _ as wildcards; '!' escapes them (and itself). Not a backslash: MySQL
// reads a backslash inside a string literal as an escape, SQLite does not, so the same
// ESCAPE clause could not be written once for both.
std::string like_pattern(std::string_view needle) {
  std::string out = "%";
  for (char c : needle) {
    if (c == '%' || c == '_' || c == '!') out += '!';
    out += c;
  }
  out += '%';
  return out;
}

}  // namespace

void DeviceRepository::insert(const core::FactoryId& factory_id, db::Connection& conn, const Device& device,
                              std::string_view api_key_hash) {
  conn.execute(
      "INSERT INTO devices (factory_id, device_id, name, type, location, line, rated_power_kw, metadata, "
      "api_key_hash, api_key_prefix, is_enabled, status, last_seen_at, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {factory_id.str(), device.device_id.str(), device.name, device.type.value_or(""), device.location,
       device.line, device.rated_power_kw,
       device.metadata_json ? std::string_view(*device.metadata_json) : kNoMetadata, api_key_hash,
       device.api_key_prefix, device.is_enabled, device.status, device.last_seen_at_ms, device.created_at_ms,
       device.updated_at_ms});
}

std::optional<Device> DeviceRepository::find(const core::FactoryId& factory_id,
                                             const core::DeviceId& device_id) {
  auto conn = db_.acquire();
  return find(factory_id, *conn, device_id);
}

std::optional<Device> DeviceRepository::find(const core::FactoryId& factory_id, db::Connection& conn,
                                             const core::DeviceId& device_id) {
  auto row = conn.query_one(
      "SELECT " + std::string(kDeviceColumns) + " FROM devices WHERE factory_id = ? AND device_id = ?",
      {factory_id.str(), device_id.str()});
  if (!row) return std::nullopt;
  return device_from_row(*row);
}

DevicePage DeviceRepository::list(const core::FactoryId& factory_id, const DeviceFilter& filter) {
  std::string where = " WHERE factory_id = ?";
  std::vector<db::Value> params{factory_id.str()};
  if (filter.search) {
    // LOWER() on both sides: MySQL's utf8mb4_bin collation compares bytes, so a plain LIKE
    // would be case-sensitive there, and lowering the needle in SQL rather than in C++ keeps
    // both sides folded by the same rules.
    where += " AND (LOWER(device_id) LIKE LOWER(?) ESCAPE '!' OR LOWER(name) LIKE LOWER(?) ESCAPE '!')";
    std::string pattern = like_pattern(*filter.search);
    params.emplace_back(pattern);
    params.emplace_back(std::move(pattern));
  }
  auto exact = [&](std::string_view column, const std::optional<std::string>& value) {
    if (!value) return;
    where += " AND " + std::string(column) + " = ?";
    params.emplace_back(*value);
  };
  exact("type", filter.type);
  exact("line", filter.line);
  exact("location", filter.location);
  exact("status", filter.status);

  auto conn = db_.acquire();
  DevicePage page;
  page.total = conn->query_one("SELECT COUNT(*) FROM devices" + where, params)->get_int(0);
  params.emplace_back(filter.limit);
  params.emplace_back(filter.offset);
  for (const auto& row : conn->query("SELECT " + std::string(kDeviceColumns) + " FROM devices" + where +
                                         " ORDER BY device_id LIMIT ? OFFSET ?",
                                     params)) {
    page.items.push_back(device_from_row(row));
  }
  return page;
}

bool DeviceRepository::update(const core::FactoryId& factory_id, db::Connection& conn,
                              const core::DeviceId& device_id, const DeviceColumns& columns,
                              std::int64_t updated_at_ms) {
  std::string sql = "UPDATE devices SET updated_at = ?";
  std::vector<db::Value> params{updated_at_ms};
  auto set = [&](std::string_view column, db::Value value) {
    sql += ", " + std::string(column) + " = ?";
    params.push_back(std::move(value));
  };
  if (columns.name) set("name", *columns.name);
  if (columns.type) set("type", columns.type->value_or(""));
  if (columns.location) set("location", to_value(*columns.location));
  if (columns.line) set("line", to_value(*columns.line));
  if (columns.rated_power_kw) {
    set("rated_power_kw", *columns.rated_power_kw ? db::Value(**columns.rated_power_kw) : db::Value(nullptr));
  }
  if (columns.metadata_json) set("metadata", columns.metadata_json->value_or(std::string(kNoMetadata)));
  if (columns.is_enabled) set("is_enabled", std::int64_t{*columns.is_enabled ? 1 : 0});
  sql += " WHERE factory_id = ? AND device_id = ?";
  params.emplace_back(factory_id.str());
  params.emplace_back(device_id.str());
  return conn.execute(sql, params).affected_rows > 0;
}

bool DeviceRepository::remove(const core::FactoryId& factory_id, db::Connection& conn,
                              const core::DeviceId& device_id) {
  // The foreign key cascades too; deleting explicitly keeps the outcome independent of
  // whether the connection enforces foreign keys.
  conn.execute("DELETE FROM device_parameters WHERE factory_id = ? AND device_id = ?",
               {factory_id.str(), device_id.str()});
  return conn.execute("DELETE FROM devices WHERE factory_id = ? AND device_id = ?",
                      {factory_id.str(), device_id.str()})
             .affected_rows > 0;
}

bool DeviceRepository::replace_key(const core::FactoryId& factory_id, db::Connection& conn,
                                   const core::DeviceId& device_id, std::string_view api_key_hash,
                                   std::string_view api_key_prefix, std::int64_t updated_at_ms) {
  return conn.execute(
                 "UPDATE devices SET api_key_hash = ?, api_key_prefix = ?, updated_at = ? "
                 "WHERE factory_id = ? AND device_id = ?",
                 {api_key_hash, api_key_prefix, updated_at_ms, factory_id.str(), device_id.str()})
             .affected_rows > 0;
}

std::optional<KeyOwner> DeviceRepository::find_by_api_key(std::string_view key) {
  if (!looks_like_api_key(key)) return std::nullopt;
  auto conn = db_.acquire();
  // ux_devices_api_key_hash makes this one index probe. Comparing digests is not a timing
  // oracle: learning a hash prefix does not help forge a key.
  auto row = conn->query_one("SELECT factory_id, device_id, is_enabled FROM devices WHERE api_key_hash = ?",
                             {api_key_hash(key)});
  if (!row) return std::nullopt;
  return KeyOwner{core::FactoryId(row->get_string(0)), core::DeviceId(row->get_string(1)), row->get_bool(2)};
}

std::vector<DeviceParameter> DeviceRepository::list_parameters(const core::FactoryId& factory_id,
                                                               const core::DeviceId& device_id) {
  auto conn = db_.acquire();
  std::vector<DeviceParameter> out;
  for (const auto& row : conn->query(
           "SELECT " + std::string(kParameterColumns) +
               " FROM device_parameters WHERE factory_id = ? AND device_id = ? ORDER BY parameter_key",
           {factory_id.str(), device_id.str()})) {
    out.push_back(parameter_from_row(row));
  }
  return out;
}

std::optional<DeviceParameter> DeviceRepository::find_parameter(const core::FactoryId& factory_id,
                                                                db::Connection& conn,
                                                                const core::DeviceId& device_id,
                                                                std::string_view parameter_key) {
  auto row = conn.query_one(
      "SELECT " + std::string(kParameterColumns) +
          " FROM device_parameters WHERE factory_id = ? AND device_id = ? AND parameter_key = ?",
      {factory_id.str(), device_id.str(), parameter_key});
  if (!row) return std::nullopt;
  return parameter_from_row(*row);
}

bool DeviceRepository::update_parameter(const core::FactoryId& factory_id, db::Connection& conn,
                                        const core::DeviceId& device_id, std::string_view parameter_key,
                                        const ParameterColumns& columns) {
  std::string sql = "UPDATE device_parameters SET ";
  std::vector<db::Value> params;
  auto set = [&](std::string_view column, db::Value value) {
    if (!params.empty()) sql += ", ";
    sql += std::string(column) + " = ?";
    params.push_back(std::move(value));
  };
  if (columns.display_name) set("display_name", to_value(*columns.display_name));
  if (columns.unit) set("unit", to_value(*columns.unit));
  if (columns.is_kpi_selected) set("is_kpi_selected", std::int64_t{*columns.is_kpi_selected ? 1 : 0});
  // Nothing to change still has to tell whether the row exists; a no-op assignment does.
  if (params.empty()) sql += "parameter_key = parameter_key";
  sql += " WHERE factory_id = ? AND device_id = ? AND parameter_key = ?";
  params.emplace_back(factory_id.str());
  params.emplace_back(device_id.str());
  params.emplace_back(std::string(parameter_key));
  return conn.execute(sql, params).affected_rows > 0;
}

void DeviceRepository::upsert_parameter(const core::FactoryId& factory_id, const core::DeviceId& device_id,
                                        std::string_view parameter_key, std::string_view data_type,
                                        std::int64_t seen_at_ms) {
  auto conn = db_.acquire();
  static const std::vector<std::string> kColumns = {"factory_id",  "device_id",       "parameter_key",
                                                    "data_type",   "is_kpi_selected", "first_seen_at",
                                                    "last_seen_at"};
  conn->execute(db::upsert_sql(conn->dialect(), "device_parameters", kColumns,
                               {"factory_id", "device_id", "parameter_key"}, {"data_type", "last_seen_at"}),
                {factory_id.str(), device_id.str(), parameter_key, data_type, true, seen_at_ms, seen_at_ms});
}

}  // namespace factoryops::devices
