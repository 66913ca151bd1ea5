#include "api/auth_routes.hpp"

#include "api/identity_json.hpp"
#include "api/secured.hpp"
#include "http/error_mapper.hpp"

namespace factoryops::api {
namespace json = boost::json;
namespace {

// Sign-in bodies are a few short strings; anything larger is not a sign-in.
constexpr std::size_t kBodyLimit = 16 * 1024;

http::Response session_response(const auth::Session& s) {
  json::object o;
  o["access_token"] = s.access_token;
  o["token_type"] = "bearer";
  o["expires_in"] = s.expires_in;
  o["refresh_token"] = s.refresh_token;
  o["user"] = user_json(s.user);
  auto response = json_response(200, o);
  response.headers.set("Cache-Control", "no-store");
  return response;
}

http::RouteOptions options(std::string summary) {
  http::RouteOptions o;
  o.body_limit = kBodyLimit;
  o.summary = std::move(summary);
  return o;
}

}  // namespace

void register_auth_routes(http::Router& router, const auth::Authenticator& authenticator,
                          auth::SessionService& sessions) {
  router.add(
      "POST", "/api/v1/auth/login",
      [&sessions](const http::Request& request) {
        auto body = parse_json_object(request);
        std::string factory_id = required_string(body, "factory_id");
        std::string email = required_string(body, "email");
        std::string password = required_string(body, "password");
        try {
          return session_response(sessions.login(factory_id, email, password, request_meta(request)));
        } catch (const auth::TooManyAttempts& e) {
          auto response = http::error_response(e.kind(), e.what(), request.request_id);
          response.headers.set("Retry-After", std::to_string(e.retry_after_seconds()));
          return response;
        }
      },
      options("Sign in with factory id, email and password"));

  router.add(
      "POST", "/api/v1/auth/refresh",
      [&sessions](const http::Request& request) {
        auto body = parse_json_object(request);
        return session_response(
            sessions.refresh(required_string(body, "refresh_token"), request_meta(request)));
      },
      options("Exchange a refresh token for a new session (the old token is spent)"));

  router.add(
      "POST", "/api/v1/auth/logout",
      [&sessions](const http::Request& request) {
        auto body = parse_json_object(request);
        sessions.logout(required_string(body, "refresh_token"), request_meta(request));
        return http::Response::no_content();
      },
      options("Revoke a refresh token and its family"));

  router.add(
      "POST", "/api/v1/auth/accept-invite",
      [&sessions](const http::Request& request) {
        auto body = parse_json_object(request);
        std::string token = required_string(body, "token");
        std::string name = required_string(body, "name");
        std::string password = required_string(body, "password");
        return session_response(sessions.accept_invitation(token, name, password, request_meta(request)));
      },
      options("Accept an invitation: set name and password, and sign in"));

  add_secured(
      router, authenticator, "GET", "/api/v1/auth/me", auth::Action::own_account,
      [&sessions](const http::Request&, const auth::FactoryContext& context) {
        auto user = sessions.me(context);
        if (!user) throw core::Unauthorized("sign in first");
        return json_response(200, user_json(*user));
      },
      options("The signed-in user"));

  add_secured(
      router, authenticator, "POST", "/api/v1/auth/change-password", auth::Action::own_account,
      [&sessions](const http::Request& request, const auth::FactoryContext& context) {
        auto body = parse_json_object(request);
        std::string current = required_string(body, "current_password");
        std::string next = required_string(body, "new_password");
        sessions.change_password(context, current, next, request_meta(request, context.user_id));
        return http::Response::no_content();
      },
      options("Change the signed-in user's password; ends every session"));
}

}  // namespace factoryops::api
