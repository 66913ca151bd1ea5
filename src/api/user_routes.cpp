#include "api/user_routes.hpp"

#include <charconv>

#include "api/identity_json.hpp"
#include "api/secured.hpp"

namespace factoryops::api {
namespace json = boost::json;
namespace {

constexpr std::size_t kBodyLimit = 16 * 1024;

auth::Role role_field(const json::object& body) {
  auto it = body.find("role");
  if (it == body.end() || !it->value().is_string())
    throw core::Invalid("role", "must be 'super_admin' or 'admin'");
  auto role = auth::parse_role(std::string_view(it->value().as_string()));
  if (!role) throw core::Invalid("role", "must be 'super_admin' or 'admin'");
  return *role;
}

auth::Permissions permissions_field(const json::object& body) {
  auto it = body.find("permissions");
  if (it == body.end() || it->value().is_null()) return {};
  return auth::parse_permissions(json::serialize(it->value()));
}

http::RouteOptions options(std::string summary) {
  http::RouteOptions o;
  o.body_limit = kBodyLimit;
  o.summary = std::move(summary);
  return o;
}

}  // namespace

void register_user_routes(http::Router& router, const auth::Authenticator& authenticator,
                          users::UserService& users, users::InvitationMailer& mailer) {
  add_secured(
      router, authenticator, "GET", "/api/v1/users", auth::Action::manage_users,
      [&users](const http::Request&, const auth::FactoryContext& context) {
        json::array items;
        for (const auto& u : users.list(context)) items.push_back(user_json(u));
        json::object o;
        o["total"] = static_cast<std::int64_t>(items.size());
        o["items"] = std::move(items);
        return json_response(200, o);
      },
      options("List the factory's users"));

  add_secured(
      router, authenticator, "POST", "/api/v1/users/invite", auth::Action::manage_users,
      [&users, &mailer](const http::Request& request, const auth::FactoryContext& context) {
        auto body = parse_json_object(request);
        std::string email = required_string(body, "email");
        auth::Role role = role_field(body);
        auth::Permissions permissions = permissions_field(body);
        auto issued = users.invite(context, email, role, permissions, request_meta(request, context.user_id));
        json::object invitation;
        invitation["id"] = issued.invitation.id;
        invitation["email"] = issued.invitation.email;
        invitation["role"] = auth::role_name(issued.invitation.role);
        invitation["permissions"] = json::parse(auth::permissions_json(issued.invitation.permissions));
        invitation["expires_at"] = format_timestamp_ms(issued.invitation.expires_at_ms);
        json::object o;
        o["invitation"] = std::move(invitation);
        o["invite_url"] = "/accept-invite?token=" + issued.token;
        // Queued after the invitation is committed: an email is never sent for one that failed.
        o["email"] = users::invitation_email_name(
            mailer.enqueue(context.factory_id, request.request_id, issued.invitation.id, issued.token));
        auto response = json_response(201, o);
        response.headers.set("Cache-Control", "no-store");
        return response;
      },
      options("Invite a user by email (the link is returned once)"));

  add_secured(
      router, authenticator, "PATCH", "/api/v1/users/{id}", auth::Action::manage_users,
      [&users](const http::Request& request, const auth::FactoryContext& context) {
        std::int64_t id = id_path_param(request, "id", "user");
        auto body = parse_json_object(request);
        users::UserPatch patch;
        for (const auto& [key, value] : body) {
          if (key == "role") {
            patch.role = role_field(body);
          } else if (key == "permissions") {
            patch.permissions = auth::parse_permissions(json::serialize(value));
          } else if (key == "is_active") {
            if (!value.is_bool()) throw core::Invalid("is_active", "must be true or false");
            patch.is_active = value.as_bool();
          } else if (key == "name") {
            if (!value.is_string()) throw core::Invalid("name", "must be a string");
            patch.name = std::string(value.as_string());
          } else {
            throw core::Invalid(std::string(key),
                                "unknown field (known: role, permissions, is_active, name)");
          }
        }
        return json_response(
            200, user_json(users.update(context, id, patch, request_meta(request, context.user_id))));
      },
      options("Change a user's role, permissions, active flag or name"));

  add_secured(
      router, authenticator, "DELETE", "/api/v1/users/{id}", auth::Action::manage_users,
      [&users](const http::Request& request, const auth::FactoryContext& context) {
        users.deactivate(context, id_path_param(request, "id", "user"),
                         request_meta(request, context.user_id));
        return http::Response::no_content();
      },
      options("Deactivate a user"));
}

}  // namespace factoryops::api
