// The Machines routes through a Router with a stand-in authenticator: status codes, JSON
// shapes, the key shown once, validation messages, permissions and factory isolation.
#include "api/device_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <optional>

#include "core/errors.hpp"
#include "device_fixture.hpp"
#include "http/router.hpp"

namespace factoryops::api {
namespace {
namespace json = boost::json;
using devices::testing::context_for;

// Maps a bearer token to a caller; no or unknown token is unauthorized.
class FakeAuthenticator : public auth::Authenticator {
 public:
  void add(std::string token, auth::FactoryContext context) {
    callers_.emplace(std::move(token), std::move(context));
  }

  auth::FactoryContext authenticate(const http::Request& request) const override {
    auto header = request.headers.get("Authorization");
    if (!header || !header->starts_with("Bearer ")) throw core::Unauthorized("missing bearer token");
    auto it = callers_.find(std::string(header->substr(7)));
    if (it == callers_.end()) throw core::Unauthorized("invalid token");
    return it->second;
  }
  // Everything this one knows is in memory, so the network-thread path can be exercised.
  std::optional<auth::FactoryContext> authenticate_from_memory(const http::Request& request) const override {
    return authenticate(request);
  }

 private:
  std::map<std::string, auth::FactoryContext, std::less<>> callers_;
};

class DeviceRoutesTest : public devices::testing::DeviceDatabaseTest {
 protected:
  void SetUp() override {
    DeviceDatabaseTest::SetUp();
    auth_.add("owner", context_for("acme", auth::Role::super_admin));
    auth_.add("manager", context_for("acme", auth::Role::admin, true));
    auth_.add("viewer", context_for("acme", auth::Role::admin, false));
    auth_.add("rival", context_for("rival", auth::Role::super_admin));
    register_device_routes(router_, auth_, *service_);
  }

  http::Response call(std::string method, std::string target, std::string token = "owner",
                      std::string body = "") {
    http::Request request;
    request.method = std::move(method);
    request.target = std::move(target);
    EXPECT_TRUE(http::parse_target(request.target, request.path, request.query)) << request.target;
    if (!token.empty()) request.headers.set("Authorization", "Bearer " + token);
    request.body = std::move(body);
    request.request_id = "rid-7";
    return router_.handle(request);
  }

  json::value call_json(std::string method, std::string target, std::string token = "owner",
                        std::string body = "", int expected_status = 200) {
    auto response = call(std::move(method), std::move(target), std::move(token), std::move(body));
    EXPECT_EQ(response.status, expected_status) << response.body_text();
    return json::parse(response.body_text());
  }

  // The field an error body names, or "" when it names none.
  static std::string error_field(const http::Response& response) {
    auto body = json::parse(response.body_text());
    const auto* field = body.at("error").as_object().if_contains("field");
    return field ? std::string(field->as_string()) : "";
  }

  json::value create(std::string body, std::string token = "owner") {
    return call_json("POST", "/api/v1/devices", std::move(token), std::move(body), 201);
  }

  FakeAuthenticator auth_;
  http::Router router_;
};

constexpr const char* kCompressor =
    R"({"device_id":"compressor-1","name":"Compressor 1","type":"compressor","location":"Hall B",)"
    R"("line":"Line 2","rated_power_kw":75,"metadata":{"vendor":"Atlas","year":2019}})";

TEST_F(DeviceRoutesTest, RegistersExactlyTheContractRoutesWithTheirActions) {
  std::set<std::string> seen;
  for (const auto& route : router_.routes())
    seen.insert(route.method + " " + route.path_template + " " + route.options.access);
  std::set<std::string> expected = {
      "POST /api/v1/devices manage_machines",
      "GET /api/v1/devices view_machines",
      "GET /api/v1/devices/{device_id} view_machines",
      "PATCH /api/v1/devices/{device_id} manage_machines",
      "DELETE /api/v1/devices/{device_id} manage_machines",
      "POST /api/v1/devices/{device_id}/rotate-key manage_machines",
      "GET /api/v1/devices/{device_id}/parameters view_machines",
      "PATCH /api/v1/devices/{device_id}/parameters/{key} manage_machines",
  };
  EXPECT_EQ(seen, expected);
}

TEST_F(DeviceRoutesTest, CreateShowsTheKeyOnceAndNeverAgain) {
  auto created = create(kCompressor);
  std::string key(created.at("api_key").as_string());
  EXPECT_TRUE(key.starts_with("fo_"));
  EXPECT_EQ(key.size(), 46U);
  const auto& device = created.at("device").as_object();
  EXPECT_EQ(device.at("device_id"), "compressor-1");
  EXPECT_EQ(device.at("name"), "Compressor 1");
  EXPECT_EQ(device.at("type"), "compressor");
  EXPECT_EQ(device.at("location"), "Hall B");
  EXPECT_EQ(device.at("line"), "Line 2");
  EXPECT_EQ(device.at("rated_power_kw").as_double(), 75.0);
  EXPECT_EQ(device.at("metadata"), json::parse(R"({"vendor":"Atlas","year":2019})"));
  EXPECT_EQ(device.at("api_key_prefix").as_string(), key.substr(0, 8));
  EXPECT_EQ(device.at("is_enabled"), true);
  EXPECT_EQ(device.at("status"), "unknown");
  EXPECT_TRUE(device.at("last_seen_at").is_null());
  std::string created_at(device.at("created_at").as_string());
  EXPECT_EQ(created_at.size(), 24U);  // 2026-11-27T16:03:05.361Z
  EXPECT_EQ(created_at.back(), 'Z');
  EXPECT_EQ(device.at("updated_at").as_string(), created_at);
  EXPECT_EQ(device.size(), 13U);

  for (const char* target : {"/api/v1/devices/compressor-1", "/api/v1/devices"}) {
    auto response = call("GET", target);
    EXPECT_EQ(response.status, 200);
    EXPECT_NE(response.body_text().find("compressor-1"), std::string::npos) << target;
    EXPECT_EQ(response.body_text().find(key), std::string::npos) << target;
    EXPECT_EQ(response.body_text().find("api_key\""), std::string::npos) << target;
  }
  EXPECT_EQ(call_json("GET", "/api/v1/devices/compressor-1").at("api_key_prefix").as_string(),
            key.substr(0, 8));
}

TEST_F(DeviceRoutesTest, OptionalFieldsComeBackAsNull) {
  auto device =
      create(R"({"device_id":"m1","name":"Mill","rated_power_kw":null,"metadata":null})").at("device");
  for (const char* field : {"type", "location", "line", "rated_power_kw", "metadata", "last_seen_at"}) {
    EXPECT_TRUE(device.at(field).is_null()) << field;
  }
}

TEST_F(DeviceRoutesTest, DuplicateIdIsAConflict) {
  create(kCompressor);
  auto response = call("POST", "/api/v1/devices", "owner", kCompressor);
  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(json::parse(response.body_text()).at("error").at("code"), "conflict");
  create(kCompressor, "rival");
}

TEST_F(DeviceRoutesTest, EveryBadFieldIsNamed) {
  struct Case {
    const char* body;
    const char* field;
  };
  const Case cases[] = {
      {R"({"name":"x"})", "device_id"},
      {R"({"device_id":"Bad Id","name":"x"})", "device_id"},
      {R"({"device_id":7,"name":"x"})", "device_id"},
      {R"({"device_id":"d"})", "name"},
      {R"({"device_id":"d","name":""})", "name"},
      {R"({"device_id":"d","name":null})", "name"},
      {R"({"device_id":"d","name":"x","type":5})", "type"},
      {R"({"device_id":"d","name":"x","location":[]})", "location"},
      {R"({"device_id":"d","name":"x","line":{}})", "line"},
      {R"({"device_id":"d","name":"x","rated_power_kw":"75"})", "rated_power_kw"},
      {R"({"device_id":"d","name":"x","rated_power_kw":-0.5})", "rated_power_kw"},
      {R"({"device_id":"d","name":"x","metadata":"{}"})", "metadata"},
      {R"({"device_id":"d","name":"x","metadata":[1]})", "metadata"},
      {R"({"device_id":"d","name":"x","colour":"red"})", "colour"},
      {R"({"device_id":"d","name":"x","is_enabled":true})", "is_enabled"},
  };
  for (const auto& c : cases) {
    auto response = call("POST", "/api/v1/devices", "owner", c.body);
    EXPECT_EQ(response.status, 400) << c.body;
    EXPECT_EQ(error_field(response), c.field) << c.body << " -> " << response.body_text();
    EXPECT_NE(response.body_text().find(c.field), std::string::npos) << response.body_text();
  }
  std::string huge =
      R"({"device_id":"d","name":"x","metadata":{"blob":")" + std::string(17 * 1024, 'x') + "\"}}";
  EXPECT_EQ(error_field(call("POST", "/api/v1/devices", "owner", huge)), "metadata");
  for (const char* malformed : {"", "not json", "[1,2]", "{\"device_id\":"}) {
    auto response = call("POST", "/api/v1/devices", "owner", malformed);
    EXPECT_EQ(response.status, 400) << malformed;
    EXPECT_EQ(json::parse(response.body_text()).at("error").at("code"), "malformed_request") << malformed;
  }
  EXPECT_EQ(call_json("GET", "/api/v1/devices").at("total"), 0);
}

TEST_F(DeviceRoutesTest, PatchUpdatesAndValidates) {
  create(kCompressor);
  auto device =
      call_json("PATCH", "/api/v1/devices/compressor-1", "owner",
                R"({"name":"Compressor One","location":null,"rated_power_kw":90.5,"is_enabled":false})");
  EXPECT_EQ(device.at("name"), "Compressor One");
  EXPECT_TRUE(device.at("location").is_null());
  EXPECT_EQ(device.at("line"), "Line 2");
  EXPECT_EQ(device.at("rated_power_kw").as_double(), 90.5);
  EXPECT_EQ(device.at("is_enabled"), false);

  const std::pair<const char*, const char*> bad[] = {
      {R"({"name":""})", "name"},
      {R"({"name":null})", "name"},
      {R"({"is_enabled":"yes"})", "is_enabled"},
      {R"({"device_id":"other"})", "device_id"},
      {R"({"api_key_prefix":"fo_x"})", "api_key_prefix"},
      {R"({"metadata":5})", "metadata"},
  };
  for (const auto& [body, field] : bad) {
    auto response = call("PATCH", "/api/v1/devices/compressor-1", "owner", body);
    EXPECT_EQ(response.status, 400) << body;
    EXPECT_EQ(error_field(response), field) << body;
  }
  EXPECT_EQ(call("PATCH", "/api/v1/devices/nope", "owner", R"({"name":"x"})").status, 404);
}

TEST_F(DeviceRoutesTest, ListPagesSearchesAndFilters) {
  for (int i = 0; i < 7; ++i) {
    std::string id = "press-" + std::to_string(i);
    std::string line = i < 4 ? "L1" : "L2";
    create(R"({"device_id":")" + id + R"(","name":"Hydraulic Press )" + std::to_string(i) + R"(","line":")" +
           line + R"(","type":"press"})");
  }
  create(R"({"device_id":"boiler","name":"Boiler","type":"boiler"})");
  create(R"({"device_id":"rival-press","name":"Press"})", "rival");

  auto page = call_json("GET", "/api/v1/devices?limit=3&offset=2");
  EXPECT_EQ(page.at("total"), 8);
  EXPECT_EQ(page.at("limit"), 3);
  EXPECT_EQ(page.at("offset"), 2);
  ASSERT_EQ(page.at("items").as_array().size(), 3U);
  EXPECT_EQ(page.at("items").at(0).at("device_id"), "press-1");

  EXPECT_EQ(call_json("GET", "/api/v1/devices").at("limit"), 50);
  EXPECT_EQ(call_json("GET", "/api/v1/devices?search=HYDRAULIC").at("total"), 7);
  EXPECT_EQ(call_json("GET", "/api/v1/devices?search=hydraulic+press+3").at("total"), 1);
  EXPECT_EQ(call_json("GET", "/api/v1/devices?type=press&line=L2").at("total"), 3);
  EXPECT_EQ(call_json("GET", "/api/v1/devices?type=&line=&search=&status=").at("total"), 8);
  EXPECT_EQ(call_json("GET", "/api/v1/devices?status=offline").at("total"), 0);
  EXPECT_EQ(call_json("GET", "/api/v1/devices?location=Nowhere").at("total"), 0);
  EXPECT_EQ(call_json("GET", "/api/v1/devices?search=rival").at("total"), 0);

  const std::pair<const char*, const char*> bad[] = {
      {"limit=0", "limit"},    {"limit=501", "limit"},
      {"limit=ten", "limit"},  {"limit=", "limit"},
      {"offset=-1", "offset"}, {"offset=1.5", "offset"},
      {"status=on", "status"}, {"limit=99999999999999999999", "limit"},
  };
  for (const auto& [query, field] : bad) {
    auto response = call("GET", std::string("/api/v1/devices?") + query);
    EXPECT_EQ(response.status, 400) << query;
    EXPECT_EQ(error_field(response), field) << query;
  }
}

// What the network thread answers without the pool: the page the pool built, shared and not
// copied, until a machine of that factory changes; never another factory's page.
TEST_F(DeviceRoutesTest, TheListIsServedFromMemoryUntilAMachineOfThatFactoryChanges) {
  create(kCompressor);
  auto from_memory = [this](
                         std::string token,
                         std::string target = "/api/v1/devices?limit=100") -> std::optional<http::Response> {
    http::Request request;
    request.method = "GET";
    request.target = std::move(target);
    EXPECT_TRUE(http::parse_target(request.target, request.path, request.query));
    if (!token.empty()) request.headers.set("Authorization", "Bearer " + token);
    request.request_id = "rid-8";
    auto match = router_.match("GET", http::target_path(request.target));
    EXPECT_EQ(match.outcome, http::RouteMatch::Outcome::found);
    if (match.outcome != http::RouteMatch::Outcome::found || !match.options->io_attempt) return std::nullopt;
    return match.options->io_attempt(request);
  };
  EXPECT_FALSE(from_memory("owner"));  // nothing built yet: the pool builds it

  auto built = call("GET", "/api/v1/devices?limit=100");
  ASSERT_EQ(built.status, 200);
  auto cached = from_memory("owner");
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->status, 200);
  EXPECT_EQ(cached->headers.get("Content-Type"), "application/json");
  EXPECT_EQ(cached->body_text(), built.body_text());
  EXPECT_TRUE(cached->shared_body && cached->shared_body == built.shared_body);
  EXPECT_EQ(json::parse(cached->body_text()).at("total"), 1);

  EXPECT_FALSE(from_memory("rival"));
  EXPECT_FALSE(from_memory("owner", "/api/v1/devices?limit=50"));
  EXPECT_THROW(from_memory(""), core::Unauthorized);
  ASSERT_EQ(call("GET", "/api/v1/devices?limit=100", "rival").status, 200);
  auto rivals = from_memory("rival");
  ASSERT_TRUE(rivals);
  EXPECT_EQ(json::parse(rivals->body_text()).at("total"), 0);

  // Each kind of change drops the factory's pages at once; the other factory keeps its own.
  const std::pair<std::string, std::string> changes[] = {
      {"POST /api/v1/devices", R"({"device_id":"boiler","name":"Boiler"})"},
      {"PATCH /api/v1/devices/boiler", R"({"name":"Steam boiler"})"},
      {"POST /api/v1/devices/boiler/rotate-key", ""},
      {"DELETE /api/v1/devices/boiler", ""},
  };
  for (const auto& [what, body] : changes) {
    auto space = what.find(' ');
    auto status = call(what.substr(0, space), what.substr(space + 1), "owner", body).status;
    EXPECT_LT(status, 300) << what;
    EXPECT_FALSE(from_memory("owner")) << what;
    EXPECT_TRUE(from_memory("rival")) << what;
    ASSERT_EQ(call("GET", "/api/v1/devices?limit=100").status, 200);
    auto fresh = from_memory("owner");
    ASSERT_TRUE(fresh) << what;
    EXPECT_EQ(fresh->body_text(), call("GET", "/api/v1/devices?limit=100").body_text()) << what;
  }
  EXPECT_EQ(json::parse(from_memory("owner")->body_text()).at("total"), 1);
}

TEST_F(DeviceRoutesTest, AnotherFactoryGetsNotFoundAndNoData) {
  create(kCompressor);
  service_->repository().upsert_parameter(core::FactoryId("acme"), core::DeviceId("compressor-1"), "power",
                                          "number", 1000);
  struct Call {
    const char* method;
    const char* target;
    const char* body;
  };
  const Call calls[] = {
      {"GET", "/api/v1/devices/compressor-1", ""},
      {"PATCH", "/api/v1/devices/compressor-1", R"({"name":"Mine now"})"},
      {"PATCH", "/api/v1/devices/compressor-1", "{}"},
      {"DELETE", "/api/v1/devices/compressor-1", ""},
      {"POST", "/api/v1/devices/compressor-1/rotate-key", ""},
      {"GET", "/api/v1/devices/compressor-1/parameters", ""},
      {"PATCH", "/api/v1/devices/compressor-1/parameters/power", R"({"unit":"W"})"},
      {"PATCH", "/api/v1/devices/compressor-1/parameters/power", "{}"},
  };
  for (const auto& [method, target, body] : calls) {
    auto response = call(method, target, "rival", body);
    EXPECT_EQ(response.status, 404) << method << " " << target;
    EXPECT_EQ(response.body_text().find("Compressor 1"), std::string::npos) << response.body_text();
    EXPECT_EQ(response.body_text().find("Atlas"), std::string::npos) << response.body_text();
  }
  auto list = call_json("GET", "/api/v1/devices", "rival");
  EXPECT_EQ(list.at("total"), 0);
  EXPECT_TRUE(list.at("items").as_array().empty());
  // Untouched for its owner.
  auto device = call_json("GET", "/api/v1/devices/compressor-1");
  EXPECT_EQ(device.at("name"), "Compressor 1");
  EXPECT_EQ(call_json("GET", "/api/v1/devices/compressor-1/parameters").at("items").at(0).at("unit"),
            nullptr);
}

TEST_F(DeviceRoutesTest, AdminWithoutMachinesPermissionMayOnlyRead) {
  create(kCompressor);
  service_->repository().upsert_parameter(core::FactoryId("acme"), core::DeviceId("compressor-1"), "power",
                                          "number", 1000);
  const std::pair<const char*, const char*> writes[] = {
      {"POST", "/api/v1/devices"},
      {"PATCH", "/api/v1/devices/compressor-1"},
      {"DELETE", "/api/v1/devices/compressor-1"},
      {"POST", "/api/v1/devices/compressor-1/rotate-key"},
      {"PATCH", "/api/v1/devices/compressor-1/parameters/power"},
  };
  for (const auto& [method, target] : writes) {
    EXPECT_EQ(call(method, target, "viewer", R"({"unit":"W"})").status, 403) << method << " " << target;
  }
  for (const char* target :
       {"/api/v1/devices", "/api/v1/devices/compressor-1", "/api/v1/devices/compressor-1/parameters"}) {
    EXPECT_EQ(call("GET", target, "viewer").status, 200) << target;
  }
  EXPECT_EQ(call("PATCH", "/api/v1/devices/compressor-1", "manager", R"({"type":"screw"})").status, 200);
  for (const auto& [method, target] : writes) {
    EXPECT_EQ(call(method, target, "").status, 401) << method << " " << target;
  }
  EXPECT_EQ(call("GET", "/api/v1/devices", "").status, 401);
}

TEST_F(DeviceRoutesTest, RotateKeyReturnsANewKeyAndRetiresTheOld) {
  std::string old_key(create(kCompressor).at("api_key").as_string());
  auto rotated = call_json("POST", "/api/v1/devices/compressor-1/rotate-key");
  std::string new_key(rotated.at("api_key").as_string());
  EXPECT_NE(new_key, old_key);
  EXPECT_EQ(rotated.at("device").at("api_key_prefix").as_string(), new_key.substr(0, 8));
  EXPECT_FALSE(service_->repository().find_by_api_key(old_key));
  EXPECT_EQ(service_->repository().find_by_api_key(new_key)->device_id.str(), "compressor-1");
  EXPECT_EQ(call("POST", "/api/v1/devices/nope/rotate-key").status, 404);
}

TEST_F(DeviceRoutesTest, DeleteAnswers204ThenNotFound) {
  create(kCompressor);
  auto response = call("DELETE", "/api/v1/devices/compressor-1");
  EXPECT_EQ(response.status, 204);
  EXPECT_TRUE(response.body_text().empty());
  EXPECT_EQ(call("GET", "/api/v1/devices/compressor-1").status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/devices/compressor-1").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/devices/NOT%20A%20SLUG").status, 404);
}

TEST_F(DeviceRoutesTest, ParametersListAndPatch) {
  create(kCompressor);
  auto& repo = service_->repository();
  repo.upsert_parameter(core::FactoryId("acme"), core::DeviceId("compressor-1"), "power", "number", 1000);
  repo.upsert_parameter(core::FactoryId("acme"), core::DeviceId("compressor-1"), "motor.temp", "number",
                        2000);

  auto list = call_json("GET", "/api/v1/devices/compressor-1/parameters");
  const auto& items = list.at("items").as_array();
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items.at(0).at("parameter_key"), "motor.temp");
  EXPECT_EQ(items.at(0).at("data_type"), "number");
  EXPECT_EQ(items.at(0).at("is_kpi_selected"), true);
  EXPECT_TRUE(items.at(0).at("display_name").is_null());
  EXPECT_EQ(items.at(0).at("first_seen_at"), "1970-01-01T00:00:02.000Z");
  EXPECT_EQ(items.at(0).as_object().size(), 7U);

  auto patched = call_json("PATCH", "/api/v1/devices/compressor-1/parameters/motor.temp", "manager",
                           R"({"display_name":"Motor temperature","unit":"°C","is_kpi_selected":false})");
  EXPECT_EQ(patched.at("display_name"), "Motor temperature");
  EXPECT_EQ(patched.at("unit"), "°C");
  EXPECT_EQ(patched.at("is_kpi_selected"), false);

  const std::pair<const char*, const char*> bad[] = {
      {R"({"unit":"123456789012345678901234567890123"})", "unit"},
      {R"({"is_kpi_selected":1})", "is_kpi_selected"},
      {R"({"display_name":7})", "display_name"},
      {R"({"data_type":"bool"})", "data_type"},
  };
  for (const auto& [body, field] : bad) {
    auto response = call("PATCH", "/api/v1/devices/compressor-1/parameters/power", "owner", body);
    EXPECT_EQ(response.status, 400) << body;
    EXPECT_EQ(error_field(response), field) << body;
  }
  EXPECT_EQ(
      call("PATCH", "/api/v1/devices/compressor-1/parameters/unknown", "owner", R"({"unit":"V"})").status,
      404);
  EXPECT_EQ(call("GET", "/api/v1/devices/nope/parameters").status, 404);
}

}  // namespace
}  // namespace factoryops::api
