#include "api/mqtt_auth_routes.hpp"

#include <boost/json.hpp>

#include <memory>
#include <stdexcept>

#include "api/identity_json.hpp"
#include "auth/crypto.hpp"
#include "core/errors.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "ingest/mqtt_acl.hpp"

namespace factoryops::api {
namespace {
namespace json = boost::json;

// The body templates EMQX must be configured with (deploy/emqx/emqx.conf); named in the 400
// answer so whoever configures the broker sees what is expected.
constexpr std::string_view kAuthnTemplate =
    R"({"username":"${username}","password":"${password}","clientid":"${clientid}","peerhost":"${peerhost}"})";
constexpr std::string_view kAuthzTemplate =
    R"({"username":"${username}","clientid":"${clientid}","peerhost":"${peerhost}","action":"${action}","topic":"${topic}"})";

struct Shared {
  ingest::MqttAcl acl;
  std::string secret_digest;
};

// One message for a missing and a wrong secret: a caller learns nothing about it.
constexpr std::string_view kBadSecret = "a valid broker secret is required";

void require_broker(const Shared& shared, const http::Request& request) {
  auto header = request.headers.get("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view value = header.value_or(std::string_view());
  if (value.size() <= kScheme.size() || !http::iequals(value.substr(0, kScheme.size()), kScheme))
    throw core::Unauthorized(std::string(kBadSecret));
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  // Digests of equal length are compared, so timing reveals neither the secret nor its length.
  if (!auth::constant_time_equals(auth::sha256_hex(value), shared.secret_digest))
    throw core::Unauthorized(std::string(kBadSecret));
}

json::object body_object(const http::Request& request, std::string_view expected) {
  boost::system::error_code ec;
  json::value value = json::parse(request.body, ec);
  if (ec || !value.is_object()) {
    throw core::Error(
        core::ErrorKind::malformed_request,
        "the request body must be a JSON object rendered from the template " + std::string(expected));
  }
  return std::move(value.as_object());
}

void record(std::string_view check, const ingest::MqttDecision& decision, const json::object& body) {
  static auto& family = core::metrics::Registry::global().counter(
      "mqtt_auth_decisions_total",
      "Answers given to the MQTT broker's authentication and authorization requests",
      {"check", "result", "reason"});
  family.labels({check, decision.allow ? "allow" : "deny", decision.reason}).inc();
  if (!log::enabled(log::Level::debug)) return;
  // Never the username (a device key) nor the password; the client id and address help find the client.
  auto text = [&body](std::string_view name) {
    const auto* v = body.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  log::debug(check == "authn" ? "mqtt authentication" : "mqtt authorization",
             {{"result", decision.allow ? "allow" : "deny"},
              {"reason", decision.reason},
              {"clientid", text("clientid")},
              {"peerhost", text("peerhost")}});
}

// With `may_block` false only memory is consulted; nullopt then sends the request to the pool.
std::optional<http::Response> authn(const Shared& shared, const http::Request& request, bool may_block) {
  require_broker(shared, request);
  const auto body = body_object(request, kAuthnTemplate);
  const std::string username = required_string(body, "username");
  // EMQX renders ${password} as "" when the client sent none; an absent field means the same.
  const std::string password = optional_string(body, "password").value_or(std::string());
  auto decision = shared.acl.authenticate(username, password, may_block);
  if (!decision) return std::nullopt;
  record("authn", *decision, body);
  // Never a superuser: every client stays subject to /authz.
  return json_response(200,
                       json::object{{"result", decision->allow ? "allow" : "deny"}, {"is_superuser", false}});
}

std::optional<http::Response> authz(const Shared& shared, const http::Request& request, bool may_block) {
  require_broker(shared, request);
  const auto body = body_object(request, kAuthzTemplate);
  const std::string username = required_string(body, "username");
  const std::string action_text = required_string(body, "action");
  const std::string topic = required_string(body, "topic");
  auto action = ingest::parse_mqtt_action(action_text);
  if (!action) throw core::Invalid("action", "must be \"publish\" or \"subscribe\" (EMQX's ${action})");
  auto decision = shared.acl.authorize(username, *action, topic, may_block);
  if (!decision) return std::nullopt;
  record("authz", *decision, body);
  return json_response(200, json::object{{"result", decision->allow ? "allow" : "deny"}});
}

}  // namespace

void register_mqtt_auth_routes(http::Router& router, const MqttAuthRoutesDeps& deps) {
  if (deps.secret.empty()) return;
  if (deps.keys == nullptr)
    throw std::invalid_argument("register_mqtt_auth_routes: the key cache is required");
  auto shared = std::make_shared<const Shared>(
      Shared{ingest::MqttAcl(*deps.keys, {deps.telemetry_username, deps.telemetry_password}),
             auth::sha256_hex(deps.secret)});

  // Each route answers on the network thread when the device key is in the cache (the common
  // case: EMQX asks about a client seconds after it connected), and on the pool otherwise.
  router.add(
      "POST", "/internal/mqtt/authn",
      [shared](const http::Request& request) { return authn(*shared, request, true).value(); },
      {.body_limit = kMqttAuthBodyLimit,
       .summary = "EMQX HTTP authentication",
       .access = std::string(kBrokerAccess),
       .io_attempt = [shared](const http::Request& request) { return authn(*shared, request, false); }});
  router.add(
      "POST", "/internal/mqtt/authz",
      [shared](const http::Request& request) { return authz(*shared, request, true).value(); },
      {.body_limit = kMqttAuthBodyLimit,
       .summary = "EMQX HTTP authorization",
       .access = std::string(kBrokerAccess),
       .io_attempt = [shared](const http::Request& request) { return authz(*shared, request, false); }});
  log::info("broker authentication routes enabled",
            {{"routes", "/internal/mqtt/authn /internal/mqtt/authz"}});
}

}  // namespace factoryops::api
