// Keeps src/api/openapi.json true: every registered route is documented and every documented
// operation is registered, with matching path parameters and declared security. The broker's
// /internal/ routes are the one exception: registered, never in the public document.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "alerts/alert_service.hpp"
#include "api/alert_routes.hpp"
#include "api/audit_routes.hpp"
#include "api/auth_routes.hpp"
#include "api/device_routes.hpp"
#include "api/health.hpp"
#include "api/ingest_routes.hpp"
#include "api/job_routes.hpp"
#include "api/live_routes.hpp"
#include "api/mqtt_auth_routes.hpp"
#include "api/rule_routes.hpp"
#include "api/system_routes.hpp"
#include "api/telemetry_routes.hpp"
#include "api/user_routes.hpp"
#include "audit/audit_service.hpp"
#include "auth/authenticator.hpp"
#include "auth/key_ring_source.hpp"
#include "auth/session_service.hpp"
#include "core/errors.hpp"
#include "core/metrics.hpp"
#include "core/resources.hpp"
#include "core/thread_pool.hpp"
#include "db/database.hpp"
#include "devices/device_service.hpp"
#include "http/router.hpp"
#include "notify/channels.hpp"
#include "queue/sql_queue.hpp"
#include "rules/rule_service.hpp"
#include "unit/tsdb/telemetry_query_store_double.hpp"
#include "users/invitation_mailer.hpp"
#include "users/user_service.hpp"

namespace factoryops::api {
namespace {
namespace json = boost::json;

const std::set<std::string> kHttpMethods = {"get",     "put",  "post",  "delete",
                                            "options", "head", "patch", "trace"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::set<std::string> template_params(const std::string& path) {
  std::set<std::string> names;
  for (std::size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
    names.insert(path.substr(open + 1, path.find('}', open) - open - 1));
  }
  return names;
}

// Only registration matters here; no request is ever authenticated.
class RefusingAuthenticator : public auth::Authenticator {
 public:
  auth::FactoryContext authenticate(const http::Request&) const override {
    throw core::Unauthorized("not signed in");
  }
};

auth::KeyRingOptions test_key_ring() {
  auth::KeyRingOptions options;
  options.env_secret = "test-secret-of-at-least-32-characters";
  return options;
}

// Every route registration function the API has; add new ones here as they appear.
struct AllRoutes {
  HealthService health{"api", {}};
  core::metrics::Registry metrics;
  RefusingAuthenticator authenticator;
  std::unique_ptr<db::Database> db = db::Database::open("sqlite::memory:");
  devices::DeviceService devices{*db};
  auth::KeyRingSource keys{test_key_ring()};
  users::UserService users{*db};
  auth::SessionService sessions{*db, keys, users, {}};
  audit::AuditService audit{*db};
  tsdb::testing::StoreDouble store;
  ingest::RejectionLog rejections{*db};
  ingest::IngestPipeline pipeline{store, nullptr, &rejections};
  ingest::DeviceKeyCache device_keys{[](std::string_view) { return std::optional<devices::KeyOwner>(); }};
  tsdb::TelemetryQueryService telemetry{*db, store, {}};
  core::BlockingPool pool{1, 4};
  queue::SqlQueue jobs{*db, {}};
  queue::DeadLetterService dead_letters{jobs, *db};
  alerts::AlertService alerts{*db};
  rules::RuleService rules{*db, store, &alerts};
  notify::Channels channels;
  users::InvitationMailer mailer{*db, jobs, channels};
  std::shared_ptr<live::LiveHub> hub =
      std::make_shared<live::LiveHub>(live::LiveHub::Options{.flush_thread = false, .metrics = &metrics});
  http::Router router;

  AllRoutes() {
    SystemRoutesDeps system;
    system.health = &health;
    system.metrics = &metrics;
    system.info = {"0.0.0-test", {"api"}, "sqlite", std::chrono::system_clock::now()};
    register_system_routes(router, system);
    register_device_routes(router, authenticator, devices);
    register_auth_routes(router, authenticator, sessions);
    register_user_routes(router, authenticator, users, mailer);
    register_audit_routes(router, authenticator, audit);
    register_ingest_routes(router, authenticator, {&pipeline, &device_keys, &rejections, &devices});
    register_telemetry_routes(router, authenticator, telemetry);
    register_mqtt_auth_routes(router, {.keys = &device_keys,
                                       .secret = "broker-secret",
                                       .telemetry_username = "factoryops-telemetry",
                                       .telemetry_password = "telemetry-password"});
    register_live_routes(router, authenticator, {.hub = hub, .pool = &pool, .devices = &devices});
    register_job_routes(router, authenticator, dead_letters);
    register_alert_routes(router, authenticator, alerts);
    register_rule_routes(router, authenticator, rules);
  }
};

constexpr std::string_view kInternalPrefix = "/internal/";

json::object load_document() {
  auto text = core::find_resource("api/openapi.json");
  EXPECT_TRUE(text) << "api/openapi.json is not embedded";
  return json::parse(text.value_or("{}")).as_object();
}

TEST(OpenApi, IsVersion31WithTheErrorSchemaAndBearerAuth) {
  auto doc = load_document();
  EXPECT_TRUE(doc.at("openapi").as_string().starts_with("3.1"));
  EXPECT_EQ(doc.at("servers").at(0).at("url"), "/");
  const auto& components = doc.at("components");
  const auto& error = components.at("schemas").at("Error");
  const auto& required = error.at("properties").at("error").at("required").as_array();
  for (const char* field : {"code", "message", "request_id"}) {
    EXPECT_NE(std::find(required.begin(), required.end(), json::value(field)), required.end()) << field;
  }
  const auto& bearer = components.at("securitySchemes").at("bearerAuth");
  EXPECT_EQ(bearer.at("scheme"), "bearer");
  EXPECT_EQ(bearer.at("bearerFormat"), "JWT");
}

TEST(OpenApi, DocumentAndRouterAgreeBothWays) {
  AllRoutes all;
  auto doc = load_document();

  // Routes under /internal/ are for the MQTT broker only, and exactly those carry its access
  // label; they stay out of the public document (and out of the comparison below).
  std::set<std::pair<std::string, std::string>> registered;
  std::size_t internal_routes = 0;
  for (const auto& route : all.router.routes()) {
    const bool internal = route.path_template.starts_with(kInternalPrefix);
    EXPECT_EQ(internal, route.options.access == kBrokerAccess) << route.method << " " << route.path_template;
    if (internal) {
      ++internal_routes;
      continue;
    }
    registered.emplace(lower(route.method), route.path_template);
  }
  EXPECT_EQ(internal_routes, 2u);

  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    EXPECT_FALSE(std::string_view(path).starts_with(kInternalPrefix))
        << path << " is internal, not public API";
    for (const auto& [method, operation] : item.as_object()) {
      if (!kHttpMethods.contains(std::string(method))) continue;
      documented.emplace(std::string(method), std::string(path));
    }
  }

  // Who may call each route is part of the contract: "security": [] for public routes, and
  // the action the route requires as "x-required-action" for the others.
  for (const auto& route : all.router.routes()) {
    const auto* item = doc.at("paths").as_object().if_contains(route.path_template);
    if (item == nullptr) continue;
    const auto* op = item->as_object().if_contains(lower(route.method));
    if (op == nullptr) continue;
    const std::string where = route.method + " " + route.path_template;
    const auto* security = op->as_object().if_contains("security");
    const bool is_public = security != nullptr && security->as_array().empty();
    EXPECT_EQ(is_public, route.options.access == "public") << where;
    if (route.options.access == kDeviceAccess) {
      // Device routes take the device's API key, never a user's bearer token.
      ASSERT_NE(security, nullptr) << where;
      std::set<std::string> schemes;
      for (const auto& requirement : security->as_array())
        for (const auto& [scheme, scopes] : requirement.as_object()) schemes.emplace(scheme);
      EXPECT_EQ(schemes, (std::set<std::string>{"deviceKey", "deviceKeyHeader"})) << where;
    }
    if (route.options.access != "public") {
      const auto* action = op->as_object().if_contains("x-required-action");
      ASSERT_NE(action, nullptr) << where << " must name its x-required-action";
      EXPECT_EQ(action->as_string(), route.options.access) << where;
    }
  }

  for (const auto& route : registered) {
    EXPECT_TRUE(documented.contains(route))
        << "registered but not documented: " << route.first << " " << route.second;
  }
  for (const auto& op : documented) {
    EXPECT_TRUE(registered.contains(op)) << "documented but not registered: " << op.first << " " << op.second;
  }
  EXPECT_FALSE(registered.empty());
}

TEST(OpenApi, OperationsDeclareParametersResponsesAndSecurity) {
  auto doc = load_document();
  std::set<std::string> operation_ids;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    const auto expected_params = template_params(std::string(path));
    for (const auto& [method, op_value] : item.as_object()) {
      if (!kHttpMethods.contains(std::string(method))) continue;
      const auto& op = op_value.as_object();
      const std::string where = std::string(method) + " " + std::string(path);

      std::set<std::string> declared;
      auto collect = [&](const json::value* params) {
        if (params == nullptr) return;
        for (const auto& p : params->as_array()) {
          if (p.at("in") == "path") {
            EXPECT_EQ(p.at("required"), true) << where;
            declared.insert(std::string(p.at("name").as_string()));
          }
        }
      };
      collect(item.as_object().if_contains("parameters"));
      collect(op.if_contains("parameters"));
      EXPECT_EQ(declared, expected_params) << where;

      const auto* responses = op.if_contains("responses");
      ASSERT_NE(responses, nullptr) << where;
      EXPECT_FALSE(responses->as_object().empty()) << where;
      EXPECT_NE(op.if_contains("security"), nullptr) << where << " must declare security ([] when public)";
      ASSERT_NE(op.if_contains("operationId"), nullptr) << where;
      EXPECT_TRUE(operation_ids.insert(std::string(op.at("operationId").as_string())).second) << where;
    }
  }
}

}  // namespace
}  // namespace factoryops::api
