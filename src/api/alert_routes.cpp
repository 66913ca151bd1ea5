#include "api/alert_routes.hpp"

#include <charconv>

#include "api/identity_json.hpp"
#include "api/secured.hpp"
#include "core/errors.hpp"
#include "db/audit_repository.hpp"

namespace factoryops::api {
namespace json = boost::json;
namespace {

constexpr std::size_t kBodyLimit = 16 * 1024;

// A comma-separated list of names, each checked by `parse`.
template <typename T, typename Parse>
std::vector<T> list_query(const http::Request& request, std::string_view name, Parse parse,
                          std::string_view allowed) {
  std::vector<T> out;
  auto text = request.query_param(name);
  if (!text || text->empty()) return out;
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    auto value = parse(item);
    if (!value)
      throw core::Invalid(std::string(name), "must be a comma-separated list of " + std::string(allowed));
    if (std::find(out.begin(), out.end(), *value) == out.end()) out.push_back(*value);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

json::value optional_number(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}
json::value optional_time(const std::optional<std::int64_t>& v) {
  return v ? json::value(format_timestamp_ms(*v)) : json::value(nullptr);
}
json::value optional_text(const std::optional<std::string>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}
json::value user_ref_json(const std::optional<alerts::UserRef>& user) {
  if (!user) return nullptr;
  return json::object{{"id", user->id}, {"email", user->email}, {"name", user->name}};
}

// The optional {"comment": "…"} body of acknowledge and resolve; an empty body is no comment.
std::optional<std::string> comment_of(const http::Request& request) {
  if (request.body.empty()) return std::nullopt;
  if (request.body.size() > kBodyLimit) throw core::Invalid("body", "must be at most 16 KiB");
  auto body = parse_json_object(request);
  for (const auto& field : body) {
    if (field.key() != "comment")
      throw core::Invalid(std::string(field.key()), "is not a field of this request");
  }
  return optional_string(body, "comment");
}

}  // namespace

json::object alert_json(const alerts::Alert& a) {
  json::object o;
  o["id"] = a.id;
  o["rule_id"] = a.rule_id;
  o["rule_name"] = a.rule_name;
  o["device_id"] = a.device_id;
  o["severity"] = rules::severity_name(a.severity);
  o["status"] = alerts::status_name(a.status);
  o["parameter"] = optional_text(a.parameter);
  o["value"] = optional_number(a.value);
  o["threshold"] = optional_number(a.threshold);
  o["message"] = a.message;
  o["started_at"] = format_timestamp_ms(a.started_at_ms);
  o["last_value"] = optional_number(a.last_value);
  o["escalated_at"] = optional_time(a.escalated_at_ms);
  o["acknowledged_at"] = optional_time(a.acknowledged_at_ms);
  o["acknowledged_by"] = user_ref_json(a.acknowledged_by);
  o["ack_comment"] = optional_text(a.ack_comment);
  o["resolved_at"] = optional_time(a.resolved_at_ms);
  o["resolved_by"] = user_ref_json(a.resolved_by);
  o["resolution"] = optional_text(a.resolution);
  o["resolve_comment"] = optional_text(a.resolve_comment);
  o["updated_at"] = format_timestamp_ms(a.updated_at_ms);
  return o;
}

void register_alert_routes(http::Router& router, const auth::Authenticator& authenticator,
                           alerts::AlertService& alerts) {
  http::RouteOptions list_options;
  list_options.summary = "The factory's alerts, newest first, filtered";
  add_secured(
      router, authenticator, "GET", "/api/v1/alerts", auth::Action::view_dashboard,
      [&alerts](const http::Request& request, const auth::FactoryContext& context) {
        alerts::AlertFilter filter;
        filter.statuses = list_query<alerts::AlertStatus>(request, "status", alerts::parse_status,
                                                          "open, acknowledged, resolved");
        filter.severities = list_query<rules::Severity>(request, "severity", rules::parse_severity,
                                                        "critical, major, minor, warning, info");
        if (auto device = request.query_param("device_id"); device && !device->empty()) {
          if (device->size() > 64) throw core::Invalid("device_id", "must be at most 64 characters");
          filter.device_id = std::string(*device);
        }
        filter.rule_id = int_query(request, "rule_id", 1, INT64_MAX);
        filter.from_ms = time_query(request, "from");
        filter.to_ms = time_query(request, "to");
        if (filter.from_ms && filter.to_ms && *filter.from_ms > *filter.to_ms)
          throw core::Invalid("from", "must not be after 'to'");
        filter.limit = int_query(request, "limit", 1, db::Paging::kMaxLimit).value_or(50);
        filter.offset = int_query(request, "offset", 0, INT64_MAX / 2).value_or(0);
        auto page = alerts.list(context, filter);
        json::array items;
        for (const auto& alert : page.items) items.push_back(alert_json(alert));
        return json_response(200, json::object{{"items", std::move(items)}, {"total", page.total}});
      },
      list_options);

  http::RouteOptions counts_options;
  counts_options.summary = "Unresolved alerts by status, severity and machine";
  add_secured(
      router, authenticator, "GET", "/api/v1/alerts/counts", auth::Action::view_dashboard,
      [&alerts](const http::Request&, const auth::FactoryContext& context) {
        auto counts = alerts.counts(context);
        json::object by_severity;
        for (const auto& [name, n] : counts.by_severity) by_severity[name] = n;
        json::object by_device;
        for (const auto& [name, n] : counts.by_device) by_device[name] = n;
        return json_response(200, json::object{{"open", counts.open},
                                               {"acknowledged", counts.acknowledged},
                                               {"by_severity", std::move(by_severity)},
                                               {"by_device", std::move(by_device)}});
      },
      counts_options);

  http::RouteOptions get_options;
  get_options.summary = "One alert with its notification log";
  add_secured(
      router, authenticator, "GET", "/api/v1/alerts/{id}", auth::Action::view_dashboard,
      [&alerts](const http::Request& request, const auth::FactoryContext& context) {
        auto detail = alerts.get(context, id_path_param(request, "id", "alert"));
        json::object body = alert_json(detail.alert);
        json::array log;
        for (const auto& n : detail.notifications) {
          log.push_back(json::object{{"id", n.id},
                                     {"event", n.attempt.event},
                                     {"channel", n.attempt.channel},
                                     {"recipient", n.attempt.recipient},
                                     {"result", n.attempt.sent ? "sent" : "failed"},
                                     {"detail", n.attempt.detail},
                                     {"attempt", n.attempt.attempt},
                                     {"attempted_at", format_timestamp_ms(n.attempt.at_ms)}});
        }
        body["notifications"] = std::move(log);
        return json_response(200, body);
      },
      get_options);

  http::RouteOptions ack_options;
  ack_options.summary = "Acknowledge an open alert, with an optional comment";
  add_secured(
      router, authenticator, "POST", "/api/v1/alerts/{id}/acknowledge", auth::Action::view_dashboard,
      [&alerts](const http::Request& request, const auth::FactoryContext& context) {
        auto id = id_path_param(request, "id", "alert");
        return json_response(200, alert_json(alerts.acknowledge(context, id, comment_of(request))));
      },
      ack_options);

  http::RouteOptions resolve_options;
  resolve_options.summary = "Resolve an alert by hand, with an optional comment";
  add_secured(
      router, authenticator, "POST", "/api/v1/alerts/{id}/resolve", auth::Action::view_dashboard,
      [&alerts](const http::Request& request, const auth::FactoryContext& context) {
        auto id = id_path_param(request, "id", "alert");
        return json_response(200, alert_json(alerts.resolve(context, id, comment_of(request))));
      },
      resolve_options);
}

}  // namespace factoryops::api
