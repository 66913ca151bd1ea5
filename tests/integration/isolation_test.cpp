// The isolation matrix (issue: identity and tenancy). The routes come from the served OpenAPI
// document, which a unit test keeps equal to the router's own table (paths, methods and the
// action each route requires), so a new route cannot escape this test. For every secured
// route: no token -> 401; a valid token of another factory on this factory's ids -> 404 with
// none of its data; an admin without the permission -> 403. On SQLite and on MariaDB.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "db/database.hpp"
#include "harness/factoryops.hpp"
#include "harness/mariadb.hpp"

namespace factoryops::testing {
namespace {

namespace json = boost::json;

struct Account {
  std::string email;
  std::string password;
  std::string token;
  std::int64_t user_id = 0;
};

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

// A request body that passes validation for each write route, so that the answer shows the
// tenancy and permission checks rather than a 400. A route missing here fails the test.
const std::map<std::string, std::string>& sample_bodies() {
  static const std::map<std::string, std::string> kBodies = {
      {"POST /api/v1/devices", R"({"device_id":"iso-probe","name":"Isolation probe"})"},
      {"PATCH /api/v1/devices/{device_id}", R"({"name":"Renamed by someone else"})"},
      {"POST /api/v1/devices/{device_id}/rotate-key", "{}"},
      {"POST /api/v1/jobs/dead-letters/{id}/requeue", "{}"},
      {"POST /api/v1/alerts/{id}/acknowledge", R"({"comment":"probe"})"},
      {"POST /api/v1/alerts/{id}/resolve", R"({"comment":"probe"})"},
      {"PATCH /api/v1/devices/{device_id}/parameters/{key}", R"({"display_name":"Power"})"},
      {"POST /api/v1/ingest", R"({"power_kw":1.5})"},
      {"PATCH /api/v1/telemetry/retention", R"({"raw_days":200})"},
      {"POST /api/v1/users/invite", R"({"email":"probe@iso.example","role":"admin","permissions":{}})"},
      {"PATCH /api/v1/users/{id}", R"({"name":"Renamed by someone else"})"},
      {"POST /api/v1/rules",
       R"({"name":"Iso probe","severity":"info","conditions":[{"kind":"threshold","parameter":"power_kw","op":">","threshold":1}]})"},
      {"POST /api/v1/rules/test",
       R"({"name":"Iso probe","severity":"info","conditions":[{"kind":"threshold","parameter":"power_kw","op":">","threshold":1}]})"},
      {"PATCH /api/v1/rules/{id}", R"({"enabled":false})"},
      {"POST /api/v1/rules/{id}/test", "{}"},
      {"POST /api/v1/auth/change-password",
       R"({"current_password":"not-the-current-one","new_password":"a-new-password-of-length"})"},
  };
  return kBodies;
}

class IsolationTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::map<std::string, std::string> env;
    ServeOptions options;
    options.label = "isolation-" + GetParam();
    if (GetParam() == "mariadb") {
      database_url_ = MariaDbServer::shared().create_database("fo_isolation");
      env["FACTORYOPS_DATABASE_URL"] = database_url_;
      auto migrated = run_factoryops({"migrate"}, env);
      ASSERT_EQ(migrated.status, 0) << migrated.output;
      options.env = env;
    }
    server_ = std::make_unique<FactoryopsServer>(options);
    if (GetParam() == "sqlite") {
      database_url_ = "sqlite:///" + (server_->data_dir() / "factoryops.db").string();
    }
    env["FACTORYOPS_DATABASE_URL"] = database_url_;

    for (const char* factory : {"alpha", "beta"}) {
      auto created = run_factoryops({"admin", "create-factory", "--id", factory, "--name",
                                     std::string(factory) + " works", "--timezone", "UTC"},
                                    env);
      ASSERT_EQ(created.status, 0) << created.output;
    }
    alpha_ = make_super_admin("alpha", env);
    beta_ = make_super_admin("beta", env);

    // Alpha's resources, created through the API as its super admin would.
    auto device =
        server_->request("POST", "/api/v1/devices",
                         R"({"device_id":"press-1","name":"Alpha hydraulic press","line":"alpha-line"})",
                         bearer(alpha_.token));
    ASSERT_EQ(device.status, 201) << device.body;
    {
      auto db = db::Database::open(database_url_);
      auto conn = db->acquire();
      conn->execute(
          "INSERT INTO device_parameters (factory_id, device_id, parameter_key, first_seen_at, last_seen_at) "
          "VALUES (?, ?, ?, ?, ?)",
          {"alpha", "press-1", "power_kw", std::int64_t{1}, std::int64_t{1}});
    }
    alpha_admin_ = invite_and_accept(alpha_, "limited@alpha.example");
    auto rule = server_->request(
        "POST", "/api/v1/rules",
        R"({"name":"Alpha press watch","severity":"major","scope":{"kind":"line","line":"alpha-line"},)"
        R"("conditions":[{"kind":"threshold","parameter":"power_kw","op":">","threshold":90}]})",
        bearer(alpha_.token));
    ASSERT_EQ(rule.status, 201) << rule.body;
    alpha_rule_id_ = json::parse(rule.body).at("id").to_number<std::int64_t>();
  }

  Account make_super_admin(const std::string& factory, const std::map<std::string, std::string>& env) {
    Account a;
    a.email = "owner@" + factory + ".example";
    a.password = make_secret(24);
    auto created = run_factoryops({"admin", "create-user", "--factory", factory, "--email", a.email, "--role",
                                   "super_admin", "--name", factory + " owner"},
                                  env, a.password + "\n");
    EXPECT_EQ(created.status, 0) << created.output;
    a.token = login(factory, a.email, a.password, &a.user_id);
    return a;
  }

  std::string login(const std::string& factory, const std::string& email, const std::string& password,
                    std::int64_t* user_id) {
    json::object body{{"factory_id", factory}, {"email", email}, {"password", password}};
    auto r = server_->request("POST", "/api/v1/auth/login", json::serialize(body),
                              {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    auto o = json::parse(r.body).as_object();
    register_secret(std::string(o.at("access_token").as_string()));
    register_secret(std::string(o.at("refresh_token").as_string()));
    if (user_id != nullptr) *user_id = o.at("user").at("id").to_number<std::int64_t>();
    return std::string(o.at("access_token").as_string());
  }

  Account invite_and_accept(const Account& inviter, const std::string& email) {
    Account a;
    a.email = email;
    a.password = make_secret(24);
    json::object invite{{"email", email}, {"role", "admin"}, {"permissions", json::object{}}};
    auto invited =
        server_->request("POST", "/api/v1/users/invite", json::serialize(invite), bearer(inviter.token));
    EXPECT_EQ(invited.status, 201) << invited.body;
    if (invited.status != 201) return a;
    std::string url(json::parse(invited.body).at("invite_url").as_string());
    std::string token = url.substr(url.find("token=") + 6);
    register_secret(token);
    json::object accept{{"token", token}, {"name", "Limited admin"}, {"password", a.password}};
    auto accepted = server_->request("POST", "/api/v1/auth/accept-invite", json::serialize(accept),
                                     {{"Content-Type", "application/json"}});
    EXPECT_EQ(accepted.status, 200) << accepted.body;
    if (accepted.status != 200) return a;
    auto o = json::parse(accepted.body).as_object();
    a.token = std::string(o.at("access_token").as_string());
    a.user_id = o.at("user").at("id").to_number<std::int64_t>();
    register_secret(a.token);
    register_secret(std::string(o.at("refresh_token").as_string()));
    return a;
  }

  std::string fill(const std::string& path) const {
    std::string out = path;
    auto replace = [&](const std::string& name, const std::string& value) {
      for (auto pos = out.find(name); pos != std::string::npos; pos = out.find(name))
        out.replace(pos, name.size(), value);
    };
    replace("{device_id}", "press-1");
    if (out.starts_with("/api/v1/rules/")) replace("{id}", std::to_string(alpha_rule_id_));
    replace("{id}", std::to_string(alpha_admin_.user_id));
    replace("{key}", "power_kw");
    return out;
  }

  std::unique_ptr<FactoryopsServer> server_;
  std::string database_url_;
  Account alpha_, beta_, alpha_admin_;
  std::int64_t alpha_rule_id_ = 0;
};

// Markers of alpha's data that must never reach beta.
const std::vector<std::string> kAlphaMarkers = {
    "press-1",          "Alpha hydraulic press", "alpha-line", "owner@alpha.example", "limited@alpha.example",
    "Alpha press watch"};

TEST_P(IsolationTest, EverySecuredRouteIsGuarded) {
  ASSERT_FALSE(alpha_admin_.token.empty());
  auto doc = json::parse(server_->get("/api/v1/openapi.json").body).as_object();
  int secured = 0;
  for (const auto& [path_key, item] : doc.at("paths").as_object()) {
    const std::string path(path_key);
    for (const auto& [method_key, op_value] : item.as_object()) {
      if (!op_value.is_object() || method_key == "parameters") continue;
      const auto& op = op_value.as_object();
      if (!op.contains("security") || op.at("security").as_array().empty()) continue;
      ++secured;
      std::string method(method_key);
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string where = method + " " + path;
      const std::string action(op.at("x-required-action").as_string());
      std::string body;
      if (method == "POST" || method == "PATCH" || method == "PUT") {
        auto it = sample_bodies().find(where);
        if (it == sample_bodies().end()) {
          ADD_FAILURE() << "no sample body for " << where << ": add one to sample_bodies()";
          continue;
        }
        body = it->second;
      }
      const std::string target = fill(path);

      auto anonymous = server_->request(method, target, body, {{"Content-Type", "application/json"}});
      EXPECT_EQ(anonymous.status, 401) << where << ": " << anonymous.body;

      auto foreign = server_->request(method, target, body, bearer(beta_.token));
      if (action == "device") {
        // Device routes take a device key; a user's token never authenticates them.
        EXPECT_EQ(foreign.status, 401) << where << " with a user's token: " << foreign.body;
        continue;
      }
      if (path.find('{') != std::string::npos) {
        EXPECT_EQ(foreign.status, 404) << where << " with another factory's token: " << foreign.body;
      } else {
        EXPECT_LT(foreign.status, 500) << where << ": " << foreign.body;
      }
      for (const auto& marker : kAlphaMarkers) {
        // An id the caller sent may be echoed back ("device 'press-1' not found"); nothing else may.
        if (target.find(marker) != std::string::npos || body.find(marker) != std::string::npos) continue;
        EXPECT_EQ(foreign.body.find(marker), std::string::npos) << where << " leaked '" << marker << "'";
      }

      const bool admin_may =
          action == "view_dashboard" || action == "view_machines" || action == "own_account";
      if (!admin_may) {
        auto limited = server_->request(method, target, body, bearer(alpha_admin_.token));
        EXPECT_EQ(limited.status, 403)
            << where << " as an admin without '" << action << "': " << limited.body;
      }
    }
  }
  EXPECT_GE(secured, 10) << "fewer secured routes than the identity release defines";

  // The ids used above are real: alpha's own super admin sees them.
  EXPECT_EQ(server_->get("/api/v1/devices/press-1", bearer(alpha_.token)).status, 200);
  EXPECT_EQ(server_->get("/api/v1/rules/" + std::to_string(alpha_rule_id_), bearer(alpha_.token)).status,
            200);
  EXPECT_EQ(server_->get("/api/v1/devices/press-1/parameters", bearer(alpha_.token)).body.find("power_kw") !=
                std::string::npos,
            true);
}

TEST_P(IsolationTest, ListsNeverShowAnotherFactory) {
  for (const char* target : {"/api/v1/devices", "/api/v1/users", "/api/v1/audit-log",
                             "/api/v1/devices?search=press", "/api/v1/rules"}) {
    auto r = server_->get(target, bearer(beta_.token));
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    for (const auto& marker : kAlphaMarkers) {
      EXPECT_EQ(r.body.find(marker), std::string::npos) << target << " leaked '" << marker << "'";
    }
  }
  auto own = server_->get("/api/v1/devices", bearer(alpha_.token));
  EXPECT_NE(own.body.find("press-1"), std::string::npos) << own.body;
}

TEST_P(IsolationTest, AForeignFactoryClaimIsNotAKey) {
  // Beta's super admin asks for a resource by alpha's id with an X-Factory header and query
  // parameter: the factory always comes from the token, never from the request.
  auto r = server_->get("/api/v1/devices/press-1?factory_id=alpha",
                        {{"Authorization", "Bearer " + beta_.token}, {"X-Factory-ID", "alpha"}});
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_P(IsolationTest, MachineChangesAreAuditedWithAddressAndRequestId) {
  auto rotated =
      server_->request("POST", "/api/v1/devices/press-1/rotate-key", "{}",
                       {{"Authorization", "Bearer " + alpha_.token}, {"X-Request-ID", "rotate-audit-1"}});
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  register_secret(std::string(json::parse(rotated.body).at("api_key").as_string()));
  auto log = server_->get("/api/v1/audit-log?action=device.key_rotated", bearer(alpha_.token));
  ASSERT_EQ(log.status, 200) << log.body;
  const json::value parsed = json::parse(log.body);
  const auto& items = parsed.at("items").as_array();
  ASSERT_EQ(items.size(), 1u) << log.body;
  const auto& entry = items.at(0).as_object();
  EXPECT_EQ(entry.at("resource_id").as_string(), "press-1");
  EXPECT_EQ(entry.at("ip").as_string(), "127.0.0.1");
  EXPECT_EQ(entry.at("request_id").as_string(), "rotate-audit-1");
  EXPECT_EQ(entry.at("user_id").to_number<std::int64_t>(), alpha_.user_id);
  EXPECT_EQ(log.body.find(std::string(json::parse(rotated.body).at("api_key").as_string())),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, IsolationTest, ::testing::Values("sqlite", "mariadb"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace factoryops::testing
