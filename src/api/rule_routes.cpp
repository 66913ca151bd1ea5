#include "api/rule_routes.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <string>

#include "api/identity_json.hpp"
#include "api/secured.hpp"
#include "core/errors.hpp"
#include "http/error_mapper.hpp"

namespace factoryops::api {
namespace {
namespace json = boost::json;
using auth::Action;

// A rule lists at most 1,000 machine ids of up to 64 characters, 20 addresses and 10 numbers:
// well under 128 KiB. Anything larger is not a rule and is refused before it is parsed.
constexpr std::size_t kBodyLimit = 128 * 1024;

// The rules API answers a bad field with 422 (docs/api-rules.md), where the rest of the API
// answers 400, so Invalid is mapped here rather than by the shared error mapper.
constexpr int kUnprocessable = 422;

SecuredHandler answering_422(SecuredHandler handler) {
  return [handler = std::move(handler)](const http::Request& request, const auth::FactoryContext& context) {
    try {
      return handler(request, context);
    } catch (const core::Invalid& e) {
      return http::error_response(kUnprocessable, core::error_code(e.kind()), e.what(), request.request_id,
                                  e.field());
    }
  };
}

json::value parse_body(const http::Request& request) {
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  if (ec || !body.is_object()) throw core::Invalid("body", "must be a JSON object");
  return body;
}

std::int64_t integer_param(const http::Request& request, std::string_view name, std::int64_t fallback) {
  auto text = request.query_param(name);
  if (!text || text->empty()) return fallback;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    throw core::Invalid(std::string(name), "must be a whole number");
  }
  return value;
}

}  // namespace

json::object stored_rule_json(const rules::StoredRule& stored) {
  json::object o = rules::rule_to_json(stored.rule).as_object();
  o["id"] = stored.rule.id;
  o["version"] = stored.version;
  o["created_at"] = format_timestamp_ms(stored.created_at_ms);
  o["updated_at"] = format_timestamp_ms(stored.updated_at_ms);
  return o;
}

json::object test_report_json(const rules::TestReport& report) {
  json::array episodes;
  for (const auto& episode : report.result.episodes) {
    json::object e;
    e["device_id"] = episode.device_id;
    e["started_at"] = format_timestamp_ms(episode.started_at_ms);
    e["fired_at"] = format_timestamp_ms(episode.fired_at_ms);
    e["cleared_at"] = episode.cleared_at_ms ? json::value(format_timestamp_ms(*episode.cleared_at_ms))
                                            : json::value(nullptr);
    e["value"] = episode.value;
    e["threshold"] = episode.threshold;
    episodes.push_back(std::move(e));
  }
  json::object o;
  o["from"] = format_timestamp_ms(report.from_ms);
  o["to"] = format_timestamp_ms(report.to_ms);
  o["fired"] = report.result.fired;
  o["readings"] = report.result.readings;
  o["episodes"] = std::move(episodes);
  o["machines"] = report.machines;
  o["truncated"] = report.truncated;
  return o;
}

void register_rule_routes(http::Router& router, const auth::Authenticator& authenticator,
                          rules::RuleService& service) {
  rules::RuleService* rules = &service;

  add_secured(router, authenticator, "GET", "/api/v1/rules", Action::view_dashboard,
              answering_422([rules](const http::Request& request, const auth::FactoryContext& context) {
                auto page = rules->list(context, integer_param(request, "limit", rules::kDefaultRulePageSize),
                                        integer_param(request, "offset", 0));
                json::array items;
                items.reserve(page.items.size());
                for (const auto& stored : page.items) items.emplace_back(stored_rule_json(stored));
                return json_response(200, json::object{{"items", std::move(items)}, {"total", page.total}});
              }),
              {.summary = "List the factory's rules by name"});

  add_secured(router, authenticator, "POST", "/api/v1/rules", Action::manage_rules,
              answering_422([rules](const http::Request& request, const auth::FactoryContext& context) {
                return json_response(201, stored_rule_json(rules->create(context, parse_body(request))));
              }),
              {.body_limit = kBodyLimit, .summary = "Create a rule"});

  // A draft's test is matched before /rules/{id}: a literal segment wins over a parameter.
  add_secured(router, authenticator, "POST", "/api/v1/rules/test", Action::manage_rules,
              answering_422([rules](const http::Request& request, const auth::FactoryContext& context) {
                return json_response(200, test_report_json(rules->test_draft(context, parse_body(request))));
              }),
              {.body_limit = kBodyLimit, .summary = "Test an unsaved rule against the last 24 hours"});

  add_secured(router, authenticator, "GET", "/api/v1/rules/{id}", Action::view_dashboard,
              answering_422([rules](const http::Request& request, const auth::FactoryContext& context) {
                return json_response(
                    200, stored_rule_json(rules->get(context, id_path_param(request, "id", "rule"))));
              }),
              {.summary = "One rule"});

  add_secured(router, authenticator, "PATCH", "/api/v1/rules/{id}", Action::manage_rules,
              answering_422([rules](const http::Request& request, const auth::FactoryContext& context) {
                const std::int64_t id = id_path_param(request, "id", "rule");
                return json_response(200, stored_rule_json(rules->update(context, id, parse_body(request))));
              }),
              {.body_limit = kBodyLimit, .summary = "Change some fields of a rule"});

  add_secured(router, authenticator, "DELETE", "/api/v1/rules/{id}", Action::manage_rules,
              answering_422([rules](const http::Request& request, const auth::FactoryContext& context) {
                rules->remove(context, id_path_param(request, "id", "rule"));
                return http::Response::no_content();
              }),
              {.summary = "Delete a rule and resolve its open alerts"});

  add_secured(router, authenticator, "POST", "/api/v1/rules/{id}/test", Action::manage_rules,
              answering_422([rules](const http::Request& request, const auth::FactoryContext& context) {
                return json_response(
                    200, test_report_json(rules->test_saved(context, id_path_param(request, "id", "rule"))));
              }),
              {.summary = "Test a saved rule against the last 24 hours"});
}

}  // namespace factoryops::api
