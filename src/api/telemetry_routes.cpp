#include "api/telemetry_routes.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <string>

#include "api/csv.hpp"
#include "api/identity_json.hpp"
#include "api/secured.hpp"
#include "core/errors.hpp"

namespace factoryops::api {
namespace {
namespace json = boost::json;
using auth::Action;

// The retention body is two small numbers.
constexpr std::size_t kRetentionBodyLimit = 4 * 1024;

std::optional<std::string> query_text(const http::Request& request, std::string_view name) {
  auto value = request.query_param(name);
  if (!value) return std::nullopt;
  return std::string(*value);
}

tsdb::QueryPlan parse_plan(const http::Request& request) {
  tsdb::QueryText text;
  text.params = query_text(request, "params");
  text.from = query_text(request, "from");
  text.to = query_text(request, "to");
  text.agg = query_text(request, "agg");
  text.interval = query_text(request, "interval");
  text.max_points = query_text(request, "max_points");
  using namespace std::chrono;
  const auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return tsdb::parse_query(text, now);
}

// format=csv|json wins over the Accept header.
bool wants_csv(const http::Request& request) {
  if (auto format = request.query_param("format"); format && !format->empty()) {
    if (*format == "csv") return true;
    if (*format == "json") return false;
    throw core::Invalid("format", "must be json or csv");
  }
  auto accept = request.headers.get("Accept");
  return accept && accept->find("text/csv") != std::string_view::npos;
}

http::Response csv_response(const tsdb::TelemetryAnswer& answer, const std::string& filename) {
  auto response = http::Response::text(200, series_csv(answer.series), "text/csv; charset=utf-8");
  response.headers.set("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  return response;
}

// Shortest text that reads back as the same double ("12.5", not Boost.JSON's "1.25E1"): about
// half the bytes of a chart answer are values.
void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  out.append(text, ec == std::errc() ? end : text);
}

// The answer's fields, then the series written directly: up to 20 series of 10,000 points
// would otherwise be 200,000 small JSON arrays. `key` names each series ("param" or
// "device_id"); `head` holds the other fields.
http::Response answer_response(const tsdb::TelemetryAnswer& answer, std::string_view key, json::object head) {
  head["from"] = format_timestamp_ms(answer.from_ms);
  head["to"] = format_timestamp_ms(answer.to_ms);
  head["interval"] = answer.interval_ms ? tsdb::interval_name(*answer.interval_ms) : std::string("raw");
  if (answer.aggregate) {
    head["agg"] = tsdb::aggregate_name(*answer.aggregate);
  } else {
    head["agg"] = nullptr;
  }
  head["timezone"] = answer.timezone;
  std::string out = json::serialize(head);
  out.pop_back();  // the closing brace; the series follow
  std::size_t points = 0;
  for (const auto& s : answer.series) points += s.points.size();
  out.reserve(out.size() + 64 * answer.series.size() + 24 * points);
  out += ",\"series\":[";
  for (std::size_t i = 0; i < answer.series.size(); ++i) {
    const auto& s = answer.series[i];
    if (i > 0) out += ',';
    out += "{\"";
    out += key;
    out += "\":";
    out += json::serialize(json::string(s.metric));
    out += ",\"points\":[";
    for (std::size_t j = 0; j < s.points.size(); ++j) {
      if (j > 0) out += ',';
      out += '[';
      out += std::to_string(s.points[j].ts_ms);
      out += ',';
      append_number(out, s.points[j].value);
      out += ']';
    }
    out += "]}";
  }
  out += "]}";
  return http::Response::json(200, std::move(out));
}

std::vector<std::string> parse_devices(const http::Request& request) {
  auto text = request.query_param("devices");
  if (!text || text->empty())
    throw core::Invalid("devices", "is required (1 to 50 machine ids, comma-separated)");
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text->find(',', start);
    std::string item(text->substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (item.empty()) throw core::Invalid("devices", "must not hold empty entries");
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(std::move(item));
    if (out.size() > tsdb::kMaxQueryDevices) {
      throw core::Invalid("devices", "at most " + std::to_string(tsdb::kMaxQueryDevices) + " machines");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<int> days_value(std::string_view key, const json::value& value) {
  if (value.is_null()) return std::nullopt;
  std::int64_t days = 0;
  if (value.is_int64()) {
    days = value.as_int64();
  } else if (value.is_uint64() && value.as_uint64() <= 100'000) {
    days = static_cast<std::int64_t>(value.as_uint64());
  } else {
    throw core::Invalid(std::string(key), "must be a whole number of days or null for the default");
  }
  // Anything this far out is outside every range; the service names the range.
  if (days < -100'000 || days > 100'000) days = days < 0 ? -100'000 : 100'000;
  return static_cast<int>(days);
}

tsdb::RetentionChange parse_retention_change(const json::object& body) {
  tsdb::RetentionChange change;
  for (const auto& [key, value] : body) {
    if (key == "raw_days") {
      change.raw_days = days_value(key, value);
    } else if (key == "rollup_days") {
      change.rollup_days = days_value(key, value);
    } else {
      throw core::Invalid(std::string(key), "unknown field (allowed: raw_days, rollup_days)");
    }
  }
  return change;
}

json::object storage_json(const tsdb::StorageReport& report) {
  json::object retention;
  retention["raw_days"] = report.retention.raw_days;
  retention["rollup_days"] = report.retention.rollup_days;
  retention["raw_days_default"] = report.defaults.raw_days;
  retention["rollup_days_default"] = report.defaults.rollup_days;
  retention["overridden"] = report.overridden;
  json::object body;
  body["engine"] = report.engine;
  if (report.usage.bytes) {
    body["bytes"] = *report.usage.bytes;
  } else {
    body["bytes"] = nullptr;
  }
  body["series"] = report.usage.series;
  body["retention"] = std::move(retention);
  return body;
}

}  // namespace

void register_telemetry_routes(http::Router& router, const auth::Authenticator& authenticator,
                               tsdb::TelemetryQueryService& service) {
  tsdb::TelemetryQueryService* telemetry = &service;

  add_secured(router, authenticator, "GET", "/api/v1/devices/{device_id}/telemetry", Action::view_machines,
              [telemetry](const http::Request& request, const auth::FactoryContext& context) {
                const bool csv = wants_csv(request);
                const auto plan = parse_plan(request);
                const std::string& device_id = request.path_param("device_id");
                auto answer = telemetry->query(context, device_id, plan);
                if (csv) return csv_response(answer, device_id + "-telemetry.csv");
                return answer_response(answer, "param", json::object{{"device_id", device_id}});
              },
              {.summary = "A machine's telemetry: raw points or aggregated buckets (JSON or CSV)"});

  add_secured(
      router, authenticator, "GET", "/api/v1/devices/{device_id}/telemetry/latest", Action::view_machines,
      [telemetry](const http::Request& request, const auth::FactoryContext& context) {
        std::vector<std::string> params;
        if (auto text = request.query_param("params")) params = tsdb::parse_key_list("params", *text);
        const std::string& device_id = request.path_param("device_id");
        json::array values;
        for (const auto& v : telemetry->latest(context, device_id, params)) {
          values.emplace_back(
              json::object{{"param", v.metric}, {"time", format_timestamp_ms(v.ts_ms)}, {"value", v.value}});
        }
        return json_response(200, json::object{{"device_id", device_id}, {"values", std::move(values)}});
      },
      {.summary = "The newest value of each of a machine's parameters"});

  add_secured(router, authenticator, "GET", "/api/v1/telemetry", Action::view_machines,
              [telemetry](const http::Request& request, const auth::FactoryContext& context) {
                const bool csv = wants_csv(request);
                auto devices = parse_devices(request);
                auto param = request.query_param("param");
                if (!param || param->empty()) throw core::Invalid("param", "is required");
                if (request.query_param("params")) {
                  throw core::Invalid("params", "this form takes one parameter: use param");
                }
                const auto plan = parse_plan(request);
                auto answer = telemetry->query_devices(context, devices, *param, plan);
                if (csv) return csv_response(answer, std::string(*param) + "-telemetry.csv");
                return answer_response(answer, "device_id", json::object{{"param", *param}});
              },
              {.summary = "One parameter across several machines (dashboard)"});

  add_secured(router, authenticator, "GET", "/api/v1/telemetry/storage", Action::manage_factory,
              [telemetry](const http::Request&, const auth::FactoryContext& context) {
                return json_response(200, storage_json(telemetry->storage(context)));
              },
              {.summary = "Telemetry engine, disk usage and retention of the factory"});

  add_secured(router, authenticator, "PATCH", "/api/v1/telemetry/retention", Action::manage_factory,
              [telemetry](const http::Request& request, const auth::FactoryContext& context) {
                auto change = parse_retention_change(parse_json_object(request));
                return json_response(200, storage_json(telemetry->update_retention(context, change)));
              },
              {.body_limit = kRetentionBodyLimit, .summary = "Change the factory's telemetry retention"});
}

}  // namespace factoryops::api
