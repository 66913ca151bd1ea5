#include "api/audit_routes.hpp"

#include <charconv>

#include "api/identity_json.hpp"
#include "api/secured.hpp"

namespace factoryops::api {
namespace json = boost::json;
void register_audit_routes(http::Router& router, const auth::Authenticator& authenticator,
                           audit::AuditService& audit) {
  http::RouteOptions o;
  o.summary = "The factory's audit trail, newest first";
  add_secured(
      router, authenticator, "GET", "/api/v1/audit-log", auth::Action::view_audit_log,
      [&audit](const http::Request& request, const auth::FactoryContext& context) {
        db::Paging paging;
        paging.limit = int_query(request, "limit", 1, db::Paging::kMaxLimit).value_or(50);
        paging.offset = int_query(request, "offset", 0, INT64_MAX / 2).value_or(0);
        db::AuditFilter filter;
        if (auto action = request.query_param("action"); action && !action->empty()) {
          if (action->size() > 64) throw core::Invalid("action", "must be at most 64 characters");
          filter.action = std::string(*action);
        }
        filter.user_id = int_query(request, "user_id", 1, INT64_MAX);
        filter.from_ms = time_query(request, "from");
        filter.to_ms = time_query(request, "to");
        if (filter.from_ms && filter.to_ms && *filter.from_ms > *filter.to_ms)
          throw core::Invalid("from", "must not be after 'to'");
        auto page = audit.list(context, filter, paging);
        json::array items;
        for (const auto& item : page.items) {
          const auto& r = item.record;
          json::object e;
          e["id"] = r.id;
          e["user_id"] = r.entry.user_id ? json::value(*r.entry.user_id) : json::value(nullptr);
          e["user_email"] = item.user_email ? json::value(*item.user_email) : json::value(nullptr);
          e["action"] = r.entry.action;
          e["resource_type"] = r.entry.resource_type;
          e["resource_id"] = r.entry.resource_id ? json::value(*r.entry.resource_id) : json::value(nullptr);
          boost::system::error_code ec;
          json::value details = json::parse(r.entry.details_json, ec);
          e["details"] = ec ? json::value(json::object()) : details;
          e["ip"] = r.entry.ip ? json::value(*r.entry.ip) : json::value(nullptr);
          e["request_id"] = r.entry.request_id ? json::value(*r.entry.request_id) : json::value(nullptr);
          e["created_at"] = format_timestamp_ms(r.created_at_ms);
          items.push_back(std::move(e));
        }
        json::object body;
        body["items"] = std::move(items);
        body["total"] = page.total;
        return json_response(200, body);
      },
      o);
}

}  // namespace factoryops::api
