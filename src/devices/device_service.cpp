#include "devices/device_service.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <string>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "db/audit_repository.hpp"
#include "db/clock.hpp"
#include "devices/api_key.hpp"

namespace factoryops::devices {
namespace {
namespace json = boost::json;

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

void check_length(std::string_view field, std::string_view text, std::size_t max_chars) {
  if (utf8_length(text) > max_chars) {
    throw core::Invalid(std::string(field), "must be at most " + std::to_string(max_chars) + " characters");
  }
}

void check_name(const std::string& name) {
  if (is_blank(name)) throw core::Invalid("name", "must not be empty");
  check_length("name", name, kMaxNameChars);
}

// Optional text: an empty string means "not set", so the API never distinguishes "" from null.
std::optional<std::string> optional_text(std::string_view field, const std::optional<std::string>& text,
                                         std::size_t max_chars) {
  if (!text || text->empty()) return std::nullopt;
  check_length(field, *text, max_chars);
  return text;
}

void check_rated_power(const std::optional<double>& kw) {
  if (kw && (!std::isfinite(*kw) || *kw < 0)) {
    throw core::Invalid("rated_power_kw", "must be a finite number of at least 0, or null");
  }
}

void check_metadata(const std::optional<std::string>& metadata) {
  if (!metadata) return;
  if (metadata->size() > kMaxMetadataBytes) {
    throw core::Invalid("metadata",
                        "must be at most " + std::to_string(kMaxMetadataBytes) + " bytes of JSON");
  }
  boost::system::error_code ec;
  json::value v = json::parse(*metadata, ec);
  if (ec || !v.is_object()) throw core::Invalid("metadata", "must be a JSON object or null");
}

// A path id that is not a slug cannot name a device, in this factory or any other.
core::DeviceId existing_id(std::string_view device_id) {
  if (!core::is_valid_slug(device_id)) throw core::NotFound("device not found");
  return core::DeviceId(device_id);
}

core::NotFound device_not_found(const core::DeviceId& id) {
  return core::NotFound("device '" + id.str() + "' not found");
}

void audit(db::Connection& conn, const auth::FactoryContext& context, std::string action,
           const core::DeviceId& device_id, const json::object& details) {
  db::AuditEntry entry;
  if (context.user_id > 0) entry.user_id = context.user_id;
  entry.action = std::move(action);
  entry.resource_type = "device";
  entry.resource_id = device_id.str();
  entry.details_json = json::serialize(details);
  if (!context.request_id.empty()) entry.request_id = context.request_id;
  if (!context.ip.empty()) entry.ip = context.ip;
  db::AuditRepository::record(conn, context.factory_id, entry);
}

}  // namespace

DeviceWithKey DeviceService::create(const auth::FactoryContext& context, const NewDevice& input) {
  context.require(auth::Action::manage_machines);
  Device device{context.factory_id, core::DeviceId(input.device_id), input.name};
  check_name(input.name);
  device.type = optional_text("type", input.type, kMaxTypeChars);
  device.location = optional_text("location", input.location, kMaxLocationChars);
  device.line = optional_text("line", input.line, kMaxLocationChars);
  check_rated_power(input.rated_power_kw);
  device.rated_power_kw = input.rated_power_kw;
  check_metadata(input.metadata_json);
  device.metadata_json = input.metadata_json;

  std::string key = generate_api_key();
  device.api_key_prefix = api_key_prefix(key);
  device.created_at_ms = device.updated_at_ms = db::now_ms();

  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  try {
    DeviceRepository::insert(context.factory_id, *conn, device, api_key_hash(key));
  } catch (const core::Conflict&) {
    throw core::Conflict("device '" + device.device_id.str() + "' already exists in this factory");
  }
  audit(*conn, context, "device.created", device.device_id,
        {{"name", device.name}, {"api_key_prefix", device.api_key_prefix}});
  // The broker learns the key before the device exists here: a device is never registered
  // with a key its broker refuses. A failed commit takes the key back.
  if (broker_ != nullptr) broker_->grant(context.factory_id, device.device_id, key, true);
  commit_or_take_back(tx, key);
  notify_changed(context.factory_id, device.device_id);
  return {std::move(device), std::move(key)};
}

DevicePage DeviceService::list(const auth::FactoryContext& context, const DeviceFilter& filter) {
  context.require(auth::Action::view_machines);
  if (filter.limit < 1 || filter.limit > kMaxPageSize) {
    throw core::Invalid("limit", "must be between 1 and " + std::to_string(kMaxPageSize));
  }
  if (filter.offset < 0) throw core::Invalid("offset", "must be 0 or more");
  if (filter.status && *filter.status != "unknown" && *filter.status != "online" &&
      *filter.status != "offline") {
    throw core::Invalid("status", "must be unknown, online or offline");
  }
  return devices_.list(context.factory_id, filter);
}

Device DeviceService::get(const auth::FactoryContext& context, std::string_view device_id) {
  context.require(auth::Action::view_machines);
  core::DeviceId id = existing_id(device_id);
  auto device = devices_.find(context.factory_id, id);
  if (!device) throw device_not_found(id);
  return *device;
}

Device DeviceService::update(const auth::FactoryContext& context, std::string_view device_id,
                             const DeviceColumns& changes) {
  context.require(auth::Action::manage_machines);
  core::DeviceId id = existing_id(device_id);
  DeviceColumns columns = changes;
  json::array fields;
  if (columns.name) {
    check_name(*columns.name);
    fields.emplace_back("name");
  }
  if (columns.type) {
    columns.type = optional_text("type", *columns.type, kMaxTypeChars);
    fields.emplace_back("type");
  }
  if (columns.location) {
    columns.location = optional_text("location", *columns.location, kMaxLocationChars);
    fields.emplace_back("location");
  }
  if (columns.line) {
    columns.line = optional_text("line", *columns.line, kMaxLocationChars);
    fields.emplace_back("line");
  }
  if (columns.rated_power_kw) {
    check_rated_power(*columns.rated_power_kw);
    fields.emplace_back("rated_power_kw");
  }
  if (columns.metadata_json) {
    check_metadata(*columns.metadata_json);
    fields.emplace_back("metadata");
  }
  if (columns.is_enabled) fields.emplace_back("is_enabled");

  auto conn = db_.acquire();
  if (fields.empty()) {
    auto device = DeviceRepository::find(context.factory_id, *conn, id);
    if (!device) throw device_not_found(id);
    return *device;
  }
  db::Transaction tx(*conn);
  if (!DeviceRepository::update(context.factory_id, *conn, id, columns, db::now_ms()))
    throw device_not_found(id);
  audit(*conn, context, "device.updated", id, {{"fields", std::move(fields)}});
  auto device = DeviceRepository::find(context.factory_id, *conn, id);
  if (broker_ != nullptr && columns.is_enabled)
    broker_->set_enabled(context.factory_id, id, *columns.is_enabled);
  tx.commit();
  notify_changed(context.factory_id, id);
  return *device;
}

void DeviceService::remove(const auth::FactoryContext& context, std::string_view device_id) {
  context.require(auth::Action::manage_machines);
  core::DeviceId id = existing_id(device_id);
  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  auto device = DeviceRepository::find(context.factory_id, *conn, id);
  if (!device || !DeviceRepository::remove(context.factory_id, *conn, id)) throw device_not_found(id);
  audit(*conn, context, "device.deleted", id, {{"name", device->name}});
  // Revoked on the broker first: a deleted device must not keep publishing.
  if (broker_ != nullptr) broker_->revoke(context.factory_id, id, {});
  tx.commit();
  notify_changed(context.factory_id, id);
}

DeviceWithKey DeviceService::rotate_key(const auth::FactoryContext& context, std::string_view device_id) {
  context.require(auth::Action::manage_machines);
  core::DeviceId id = existing_id(device_id);
  std::string key = generate_api_key();
  std::string prefix = api_key_prefix(key);
  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  if (!DeviceRepository::replace_key(context.factory_id, *conn, id, api_key_hash(key), prefix,
                                     db::now_ms())) {
    throw device_not_found(id);
  }
  audit(*conn, context, "device.key_rotated", id, {{"api_key_prefix", prefix}});
  auto device = DeviceRepository::find(context.factory_id, *conn, id);
  if (broker_ != nullptr) broker_->grant(context.factory_id, id, key, device->is_enabled);
  commit_or_take_back(tx, key);
  notify_changed(context.factory_id, id);
  if (broker_ != nullptr) {
    try {
      broker_->revoke(context.factory_id, id, key);
    } catch (const std::exception& e) {
      // The old key is unknown here from now on (the registry refuses it); the broker's copy is
      // removed by the next reconciliation.
      log::warn("old device key left on the broker",
                {{"device_id", id.str()}, {"error", std::string_view(e.what())}});
    }
  }
  return {std::move(*device), std::move(key)};
}

std::vector<DeviceParameter> DeviceService::parameters(const auth::FactoryContext& context,
                                                       std::string_view device_id) {
  context.require(auth::Action::view_machines);
  core::DeviceId id = existing_id(device_id);
  if (!devices_.find(context.factory_id, id)) throw device_not_found(id);
  return devices_.list_parameters(context.factory_id, id);
}

DeviceParameter DeviceService::update_parameter(const auth::FactoryContext& context,
                                                std::string_view device_id, std::string_view parameter_key,
                                                const ParameterColumns& changes) {
  context.require(auth::Action::manage_machines);
  core::DeviceId id = existing_id(device_id);
  ParameterColumns columns = changes;
  if (columns.display_name) {
    columns.display_name = optional_text("display_name", *columns.display_name, kMaxDisplayNameChars);
  }
  if (columns.unit) columns.unit = optional_text("unit", *columns.unit, kMaxUnitChars);

  auto conn = db_.acquire();
  db::Transaction tx(*conn);
  if (!DeviceRepository::find(context.factory_id, *conn, id)) throw device_not_found(id);
  if (!DeviceRepository::update_parameter(context.factory_id, *conn, id, parameter_key, columns)) {
    throw core::NotFound("parameter '" + std::string(parameter_key) + "' not found on device '" + id.str() +
                         "'");
  }
  auto parameter = DeviceRepository::find_parameter(context.factory_id, *conn, id, parameter_key);
  tx.commit();
  notify_changed(context.factory_id, id);
  return *parameter;
}

void DeviceService::commit_or_take_back(db::Transaction& tx, const std::string& key) {
  try {
    tx.commit();
  } catch (...) {
    if (broker_ != nullptr) {
      try {
        broker_->revoke_key(key);
      } catch (const std::exception& e) {
        log::warn("a key granted for a failed change is left on the broker",
                  {{"error", std::string_view(e.what())}});
      }
    }
    throw;
  }
}

void DeviceService::on_change(ChangeListener listener) {
  listeners_.push_back(std::move(listener));
}

void DeviceService::notify_changed(const core::FactoryId& factory_id, const core::DeviceId& device_id) {
  for (const auto& listener : listeners_) listener(factory_id, device_id);
}

}  // namespace factoryops::devices
