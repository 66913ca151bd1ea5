// Keeps src/api/openapi.json true: every registered route is documented and every documented
// operation is registered, with matching path parameters and declared security.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "api/health.hpp"
#include "api/system_routes.hpp"
#include "core/metrics.hpp"
#include "core/resources.hpp"
#include "http/router.hpp"

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

// Every route registration function the API has; add new ones here as they appear.
struct AllRoutes {
  HealthService health{"api", {}};
  core::metrics::Registry metrics;
  http::Router router;

  AllRoutes() {
    SystemRoutesDeps system;
    system.health = &health;
    system.metrics = &metrics;
    system.info = {"0.0.0-test", {"api"}, "sqlite", std::chrono::system_clock::now()};
    register_system_routes(router, system);
  }
};

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

  std::set<std::pair<std::string, std::string>> registered;
  for (const auto& route : all.router.routes()) registered.emplace(lower(route.method), route.path_template);

  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      if (!kHttpMethods.contains(std::string(method))) continue;
      documented.emplace(std::string(method), std::string(path));
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
