#include "api/device_routes.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <chrono>
#include <memory>
#include <string>

#include "api/identity_json.hpp"
#include "api/page_cache.hpp"
#include "api/secured.hpp"
#include "api/system_routes.hpp"
#include "core/errors.hpp"

namespace factoryops::api {
namespace {
namespace json = boost::json;
using auth::Action;

// A machine body is a handful of short strings plus metadata of at most 16 KiB; anything
// much larger is not a machine and is refused before it is parsed.
constexpr std::size_t kBodyLimit = 64 * 1024;

json::value timestamp(std::int64_t ms) {
  return json::value(format_timestamp_ms(ms));
}

json::value optional_string(const std::optional<std::string>& text) {
  return text ? json::value(*text) : json::value(nullptr);
}

[[noreturn]] void unknown_field(std::string_view key, std::string_view allowed) {
  throw core::Invalid(std::string(key), "unknown field (allowed: " + std::string(allowed) + ")");
}

std::string string_field(std::string_view key, const json::value& value) {
  if (!value.is_string()) throw core::Invalid(std::string(key), "must be a string");
  return std::string(value.as_string());
}

std::optional<std::string> nullable_string(std::string_view key, const json::value& value) {
  if (value.is_null()) return std::nullopt;
  if (!value.is_string()) throw core::Invalid(std::string(key), "must be a string or null");
  return std::string(value.as_string());
}

std::optional<double> nullable_number(std::string_view key, const json::value& value) {
  if (value.is_null()) return std::nullopt;
  if (value.is_double()) return value.as_double();
  if (value.is_int64()) return static_cast<double>(value.as_int64());
  if (value.is_uint64()) return static_cast<double>(value.as_uint64());
  throw core::Invalid(std::string(key), "must be a number or null");
}

std::optional<std::string> nullable_object(std::string_view key, const json::value& value) {
  if (value.is_null()) return std::nullopt;
  if (!value.is_object()) throw core::Invalid(std::string(key), "must be a JSON object or null");
  return json::serialize(value);
}

bool bool_field(std::string_view key, const json::value& value) {
  if (!value.is_bool()) throw core::Invalid(std::string(key), "must be true or false");
  return value.as_bool();
}

devices::NewDevice parse_new_device(const json::object& body) {
  constexpr std::string_view kAllowed = "device_id, name, type, location, line, rated_power_kw, metadata";
  devices::NewDevice input;
  bool has_id = false;
  bool has_name = false;
  for (const auto& [key, value] : body) {
    if (key == "device_id") {
      input.device_id = string_field(key, value);
      has_id = true;
    } else if (key == "name") {
      input.name = string_field(key, value);
      has_name = true;
    } else if (key == "type") {
      input.type = nullable_string(key, value);
    } else if (key == "location") {
      input.location = nullable_string(key, value);
    } else if (key == "line") {
      input.line = nullable_string(key, value);
    } else if (key == "rated_power_kw") {
      input.rated_power_kw = nullable_number(key, value);
    } else if (key == "metadata") {
      input.metadata_json = nullable_object(key, value);
    } else {
      unknown_field(key, kAllowed);
    }
  }
  if (!has_id) throw core::Invalid("device_id", "is required");
  if (!has_name) throw core::Invalid("name", "is required");
  return input;
}

devices::DeviceColumns parse_device_changes(const json::object& body) {
  constexpr std::string_view kAllowed = "name, type, location, line, rated_power_kw, metadata, is_enabled";
  devices::DeviceColumns changes;
  for (const auto& [key, value] : body) {
    if (key == "name") {
      changes.name = string_field(key, value);
    } else if (key == "type") {
      changes.type = nullable_string(key, value);
    } else if (key == "location") {
      changes.location = nullable_string(key, value);
    } else if (key == "line") {
      changes.line = nullable_string(key, value);
    } else if (key == "rated_power_kw") {
      changes.rated_power_kw = nullable_number(key, value);
    } else if (key == "metadata") {
      changes.metadata_json = nullable_object(key, value);
    } else if (key == "is_enabled") {
      changes.is_enabled = bool_field(key, value);
    } else if (key == "device_id") {
      throw core::Invalid("device_id", "cannot be changed");
    } else {
      unknown_field(key, kAllowed);
    }
  }
  return changes;
}

devices::ParameterColumns parse_parameter_changes(const json::object& body) {
  constexpr std::string_view kAllowed = "display_name, unit, is_kpi_selected";
  devices::ParameterColumns changes;
  for (const auto& [key, value] : body) {
    if (key == "display_name") {
      changes.display_name = nullable_string(key, value);
    } else if (key == "unit") {
      changes.unit = nullable_string(key, value);
    } else if (key == "is_kpi_selected") {
      changes.is_kpi_selected = bool_field(key, value);
    } else {
      unknown_field(key, kAllowed);
    }
  }
  return changes;
}

std::int64_t integer_param(const http::Request& request, std::string_view name, std::int64_t fallback) {
  auto text = request.query_param(name);
  if (!text) return fallback;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size()) {
    throw core::Invalid(std::string(name), "must be a whole number");
  }
  return value;
}

// An empty value ("?type=") means no filter, as a search form sends it.
std::optional<std::string> text_param(const http::Request& request, std::string_view name) {
  auto text = request.query_param(name);
  if (!text || text->empty()) return std::nullopt;
  return std::string(*text);
}

devices::DeviceFilter parse_filter(const http::Request& request) {
  devices::DeviceFilter filter;
  filter.limit = integer_param(request, "limit", devices::kDefaultPageSize);
  filter.offset = integer_param(request, "offset", 0);
  filter.search = text_param(request, "search");
  filter.type = text_param(request, "type");
  filter.line = text_param(request, "line");
  filter.location = text_param(request, "location");
  filter.status = text_param(request, "status");
  return filter;
}

// The cache key of a filter: every field, with a presence mark so "no filter" and an empty
// filter cannot collide.
std::string filter_key(const devices::DeviceFilter& filter) {
  std::string key = std::to_string(filter.limit) + ',' + std::to_string(filter.offset);
  for (const auto* field : {&filter.search, &filter.type, &filter.line, &filter.location, &filter.status}) {
    key += field->has_value() ? "\x1f=" + **field : std::string("\x1f-");
  }
  return key;
}

json::object device_with_key_json(const devices::DeviceWithKey& created) {
  return {{"device", device_json(created.device)}, {"api_key", created.api_key}};
}

}  // namespace

json::object device_json(const devices::Device& d, json::storage_ptr storage) {
  json::object o(13, storage);
  if (d.metadata_json) {
    boost::system::error_code ec;
    json::value metadata = json::parse(*d.metadata_json, ec, storage);
    o["metadata"] = ec ? json::value(nullptr) : std::move(metadata);
  } else {
    o["metadata"] = nullptr;
  }
  // Assigning text to an element stores it with the object's allocator, so a list built on a
  // monotonic resource allocates from that resource only.
  auto text_or_null = [&o](std::string_view key, const std::optional<std::string>& text) {
    if (text) {
      o[key] = *text;
    } else {
      o[key] = nullptr;
    }
  };
  auto time_or_null = [&o](std::string_view key, std::optional<std::int64_t> ms) {
    if (ms) {
      o[key] = format_timestamp_ms(*ms);
    } else {
      o[key] = nullptr;
    }
  };
  o["device_id"] = d.device_id.str();
  o["name"] = d.name;
  text_or_null("type", d.type);
  text_or_null("location", d.location);
  text_or_null("line", d.line);
  if (d.rated_power_kw) {
    o["rated_power_kw"] = *d.rated_power_kw;
  } else {
    o["rated_power_kw"] = nullptr;
  }
  o["api_key_prefix"] = d.api_key_prefix;
  o["is_enabled"] = d.is_enabled;
  o["status"] = d.status;
  time_or_null("last_seen_at", d.last_seen_at_ms);
  time_or_null("created_at", d.created_at_ms);
  time_or_null("updated_at", d.updated_at_ms);
  return o;
}

json::object parameter_json(const devices::DeviceParameter& p) {
  json::object o;
  o["parameter_key"] = p.parameter_key;
  o["display_name"] = optional_string(p.display_name);
  o["unit"] = optional_string(p.unit);
  o["data_type"] = p.data_type;
  o["is_kpi_selected"] = p.is_kpi_selected;
  o["first_seen_at"] = timestamp(p.first_seen_at_ms);
  o["last_seen_at"] = timestamp(p.last_seen_at_ms);
  return o;
}

void register_device_routes(http::Router& router, const auth::Authenticator& authenticator,
                            devices::DeviceService& service) {
  devices::DeviceService* devices = &service;

  add_secured(router, authenticator, "POST", "/api/v1/devices", Action::manage_machines,
              [devices](const http::Request& request, const auth::FactoryContext& context) {
                auto created = devices->create(context, parse_new_device(parse_json_object(request)));
                return json_response(201, device_with_key_json(created));
              },
              {.body_limit = kBodyLimit, .summary = "Register a machine and issue its API key"});

  // Screens poll this list; a page is rebuilt at most once a second per filter unless the
  // factory's machines change (see PageCache).
  auto pages = std::make_shared<PageCache>();
  service.on_change(
      [pages](const core::FactoryId& factory, const core::DeviceId&) { pages->invalidate(factory); });
  add_secured(
      router, authenticator, "GET", "/api/v1/devices", Action::view_machines,
      [devices, pages](const http::Request& request, const auth::FactoryContext& context) {
        auto filter = parse_filter(request);
        const std::string key = filter_key(filter);
        const auto now = PageCache::Clock::now();
        if (auto cached = pages->find(context.factory_id, key, now)) return http::Response::json(200, cached);
        const std::uint64_t generation = pages->generation(context.factory_id);
        auto page = devices->list(context, filter);
        // One arena for the whole page: a hundred machines are about 1,500 small
        // allocations otherwise.
        json::monotonic_resource arena(64 * 1024);
        json::storage_ptr storage(&arena);
        json::array items(storage);
        items.reserve(page.items.size());
        for (const auto& device : page.items) items.emplace_back(device_json(device, storage));
        json::object body(4, storage);
        body["items"] = std::move(items);
        body["total"] = page.total;
        body["limit"] = filter.limit;
        body["offset"] = filter.offset;
        auto text = std::make_shared<const std::string>(json::serialize(body));
        pages->store(context.factory_id, key, text, generation, now);
        return http::Response::json(200, std::move(text));
      },
      [pages](const http::Request& request,
              const auth::FactoryContext& context) -> std::optional<http::Response> {
        auto cached =
            pages->find(context.factory_id, filter_key(parse_filter(request)), PageCache::Clock::now());
        if (!cached) return std::nullopt;
        return http::Response::json(200, std::move(cached));
      },
      {.summary = "List the factory's machines"});

  add_secured(router, authenticator, "GET", "/api/v1/devices/{device_id}", Action::view_machines,
              [devices](const http::Request& request, const auth::FactoryContext& context) {
                return json_response(200,
                                     device_json(devices->get(context, request.path_param("device_id"))));
              },
              {.summary = "One machine"});

  add_secured(router, authenticator, "PATCH", "/api/v1/devices/{device_id}", Action::manage_machines,
              [devices](const http::Request& request, const auth::FactoryContext& context) {
                auto changes = parse_device_changes(parse_json_object(request));
                return json_response(
                    200, device_json(devices->update(context, request.path_param("device_id"), changes)));
              },
              {.body_limit = kBodyLimit, .summary = "Change a machine's details"});

  add_secured(router, authenticator, "DELETE", "/api/v1/devices/{device_id}", Action::manage_machines,
              [devices](const http::Request& request, const auth::FactoryContext& context) {
                devices->remove(context, request.path_param("device_id"));
                return http::Response::no_content();
              },
              {.summary = "Delete a machine and its parameters"});

  add_secured(router, authenticator, "POST", "/api/v1/devices/{device_id}/rotate-key",
              Action::manage_machines,
              [devices](const http::Request& request, const auth::FactoryContext& context) {
                return json_response(
                    200, device_with_key_json(devices->rotate_key(context, request.path_param("device_id"))));
              },
              {.summary = "Replace a machine's API key"});

  add_secured(router, authenticator, "GET", "/api/v1/devices/{device_id}/parameters", Action::view_machines,
              [devices](const http::Request& request, const auth::FactoryContext& context) {
                json::array items;
                for (const auto& p : devices->parameters(context, request.path_param("device_id"))) {
                  items.emplace_back(parameter_json(p));
                }
                return json_response(200, json::object{{"items", std::move(items)}});
              },
              {.summary = "The parameters a machine has reported"});

  add_secured(router, authenticator, "PATCH", "/api/v1/devices/{device_id}/parameters/{key}",
              Action::manage_machines,
              [devices](const http::Request& request, const auth::FactoryContext& context) {
                auto changes = parse_parameter_changes(parse_json_object(request));
                auto parameter = devices->update_parameter(context, request.path_param("device_id"),
                                                           request.path_param("key"), changes);
                return json_response(200, parameter_json(parameter));
              },
              {.body_limit = kBodyLimit, .summary = "Name a parameter, set its unit or KPI choice"});
}

}  // namespace factoryops::api
