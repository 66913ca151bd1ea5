#include "live/protocol.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include <date/date.h>
#include <boost/json.hpp>

#include "ingest/payload.hpp"

namespace factoryops::live {
namespace {

namespace json = boost::json;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

void append_string(std::string& out, std::string_view text) {
  out += json::serialize(json::string_view(text.data(), text.size()));
}

// Shortest text that reads back as the same double ("12.5", not "1.25E1").
void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  out.append(text, ec == std::errc() ? end : text);
}

// Reads "devices": "*" or a non-empty list of strings.
std::optional<DeviceSelection> device_selection(const json::object& body, std::string& problem) {
  const auto* value = body.if_contains("devices");
  if (value == nullptr) {
    problem = "devices is required: a list of machine ids or \"*\"";
    return std::nullopt;
  }
  DeviceSelection selection;
  if (value->is_string()) {
    if (value->as_string() != "*") {
      problem = "devices must be a list of machine ids or \"*\"";
      return std::nullopt;
    }
    selection.all = true;
    return selection;
  }
  if (!value->is_array() || value->as_array().empty()) {
    problem = "devices must be a non-empty list of machine ids or \"*\"";
    return std::nullopt;
  }
  for (const auto& item : value->as_array()) {
    if (!item.is_string()) {
      problem = "devices must hold strings only";
      return std::nullopt;
    }
    std::string id(item.as_string());
    if (std::find(selection.ids.begin(), selection.ids.end(), id) == selection.ids.end())
      selection.ids.push_back(std::move(id));
  }
  if (selection.ids.size() > kMaxListedDevices) {
    problem = "devices may list at most " + std::to_string(kMaxListedDevices) + " machines";
    return std::nullopt;
  }
  return selection;
}

// Reads the optional "params": absent or null means every parameter.
bool params_list(const json::object& body, std::optional<std::vector<std::string>>& out,
                 std::string& problem) {
  const auto* value = body.if_contains("params");
  if (value == nullptr || value->is_null()) return true;
  if (!value->is_array() || value->as_array().empty()) {
    problem = "params must be a non-empty list of parameter keys, or left out for every parameter";
    return false;
  }
  std::vector<std::string> keys;
  for (const auto& item : value->as_array()) {
    if (!item.is_string() || !ingest::is_valid_key(item.as_string())) {
      problem = "params must hold parameter keys ([A-Za-z0-9_.-], 1 to 64 characters)";
      return false;
    }
    std::string key(item.as_string());
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  }
  if (keys.size() > kMaxListedParams) {
    problem = "params may list at most " + std::to_string(kMaxListedParams) + " keys";
    return false;
  }
  out = std::move(keys);
  return true;
}

}  // namespace

OfferedProtocols parse_subprotocols(std::span<const std::string_view> values) {
  OfferedProtocols offered;
  for (std::string_view list : values) {
    while (!list.empty()) {
      const auto comma = list.find(',');
      const std::string_view item = trim(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (item.empty()) continue;
      offered.any = true;
      if (item == kSubprotocol) {
        offered.v1 = true;
      } else if (item.starts_with(kBearerSubprotocolPrefix) && !offered.token) {
        offered.token = std::string(item.substr(kBearerSubprotocolPrefix.size()));
      }
    }
  }
  return offered;
}

ParsedMessage parse_client_message(std::string_view text) {
  ParsedMessage parsed;
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) {
    parsed.problem = "a message must be a JSON object with a \"type\"";
    return parsed;
  }
  const auto& body = value.as_object();
  const auto* type_value = body.if_contains("type");
  if (type_value == nullptr || !type_value->is_string()) {
    parsed.problem = "a message must be a JSON object with a \"type\"";
    return parsed;
  }
  const std::string_view type = type_value->as_string();
  if (type == "ping") {
    parsed.message = PingMessage{};
  } else if (type == "auth") {
    const auto* token = body.if_contains("token");
    if (token == nullptr || !token->is_string() || token->as_string().empty() ||
        token->as_string().size() > kMaxTokenBytes) {
      parsed.problem = "auth needs \"token\": the access token";
      return parsed;
    }
    parsed.message = AuthMessage{std::string(token->as_string())};
  } else if (type == "subscribe") {
    auto devices = device_selection(body, parsed.problem);
    if (!devices) return parsed;
    SubscribeMessage subscribe{std::move(*devices), std::nullopt};
    if (!params_list(body, subscribe.params, parsed.problem)) return parsed;
    parsed.message = std::move(subscribe);
  } else if (type == "unsubscribe") {
    auto devices = device_selection(body, parsed.problem);
    if (!devices) return parsed;
    parsed.message = UnsubscribeMessage{std::move(*devices)};
  } else {
    parsed.problem = "unknown message type (known: auth, subscribe, unsubscribe, ping)";
  }
  return parsed;
}

std::string ready_message(const core::FactoryId& factory, std::int64_t user_id, std::int64_t expires_at_ms) {
  json::object o;
  o["type"] = "ready";
  o["factory_id"] = factory.str();
  o["user_id"] = user_id;
  if (expires_at_ms > 0) o["expires_at"] = format_rfc3339_ms(expires_at_ms);
  return json::serialize(o);
}

std::string pong_message() {
  return R"({"type":"pong"})";
}

std::string error_message(std::string_view code, std::string_view message,
                          std::optional<std::string_view> device_id) {
  json::object o;
  o["type"] = "error";
  o["code"] = code;
  o["message"] = message;
  if (device_id) o["device_id"] = *device_id;
  return json::serialize(o);
}

std::string reading_message(std::string_view device_id, std::int64_t ts_ms,
                            std::span<const std::pair<std::string, double>> values) {
  std::string out;
  out.reserve(64 + device_id.size() + values.size() * 24);
  out += R"({"type":"reading","device_id":)";
  append_string(out, device_id);
  out += R"(,"ts":)";
  out += std::to_string(ts_ms);
  out += R"(,"values":{)";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    append_string(out, values[i].first);
    out += ':';
    append_number(out, values[i].second);
  }
  out += "}}";
  return out;
}

std::string status_message(std::string_view device_id, bool online, std::int64_t last_seen_ms) {
  std::string out = R"({"type":"status","device_id":)";
  append_string(out, device_id);
  out += online ? R"(,"online":true)" : R"(,"online":false)";
  out += R"(,"last_seen_at":)";
  if (last_seen_ms > 0) {
    append_string(out, format_rfc3339_ms(last_seen_ms));
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

std::string format_rfc3339_ms(std::int64_t epoch_ms) {
  const std::chrono::sys_time<std::chrono::milliseconds> time{std::chrono::milliseconds(epoch_ms)};
  return date::format("%FT%TZ", time);
}

}  // namespace factoryops::live
