#include "http/router.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/errors.hpp"

namespace factoryops::http {
namespace {

Handler reply(std::string text) {
  return [text](const Request&) { return Response::text(200, text); };
}

Request make_request(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.request_id = "req-1";
  return r;
}

TEST(Router, MatchesLiteralAndParameterSegments) {
  Router router;
  router.add("GET", "/api/v1/devices/{device_id}", reply("device"));
  router.add("GET", "/api/v1/devices/{device_id}/parameters/{key}", reply("param"));
  auto m = router.match("GET", "/api/v1/devices/press-1/parameters/power.kw");
  ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
  EXPECT_EQ(m.route_template, "/api/v1/devices/{device_id}/parameters/{key}");
  EXPECT_EQ(m.path_params.at("device_id"), "press-1");
  EXPECT_EQ(m.path_params.at("key"), "power.kw");
}

TEST(Router, DecodesEachSegmentOnItsOwn) {
  Router router;
  router.add("GET", "/files/{name}", reply("f"));
  auto m = router.match("GET", "/files/a%2Fb%20c");
  ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
  EXPECT_EQ(m.path_params.at("name"), "a/b c");
  EXPECT_EQ(router.match("GET", "/files/%zz").outcome, RouteMatch::Outcome::not_found);
}

TEST(Router, LiteralSegmentWinsOverParameter) {
  Router router;
  router.add("GET", "/devices/{id}", reply("by id"));
  router.add("GET", "/devices/search", reply("search"));
  EXPECT_EQ(router.match("GET", "/devices/search").route_template, "/devices/search");
  EXPECT_EQ(router.match("GET", "/devices/d1").route_template, "/devices/{id}");
}

TEST(Router, ParametersNeverMatchEmptySegments) {
  Router router;
  router.add("GET", "/devices/{id}", reply("x"));
  EXPECT_EQ(router.match("GET", "/devices/").outcome, RouteMatch::Outcome::not_found);
}

TEST(Router, TrailingSlashIsSignificant) {
  Router router;
  router.add("GET", "/health", reply("h"));
  router.add("GET", "/", reply("root"));
  EXPECT_EQ(router.match("GET", "/health").outcome, RouteMatch::Outcome::found);
  EXPECT_EQ(router.match("GET", "/health/").outcome, RouteMatch::Outcome::not_found);
  EXPECT_EQ(router.match("GET", "//health").outcome, RouteMatch::Outcome::not_found);
  EXPECT_EQ(router.match("GET", "/").route_template, "/");
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router router;
  router.add("GET", "/items/{id}", reply("get"));
  router.add("DELETE", "/items/{id}", reply("delete"));
  router.add("POST", "/items", reply("create"));
  auto m = router.match("PUT", "/items/7");
  EXPECT_EQ(m.outcome, RouteMatch::Outcome::method_not_allowed);
  EXPECT_EQ(m.allow, "DELETE, GET, HEAD");

  auto request = make_request("PUT", "/items/7");
  auto response = router.handle(request);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers.get("Allow"), "DELETE, GET, HEAD");
  auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("error").at("code"), "method_not_allowed");
  EXPECT_EQ(body.at("error").at("request_id"), "req-1");
}

TEST(Router, UnknownPathIs404Json) {
  Router router;
  router.add("GET", "/items", reply("list"));
  auto request = make_request("GET", "/nothing?x=1");
  auto response = router.handle(request);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.headers.get("Content-Type"), "application/json");
  auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("error").at("code"), "not_found");
  EXPECT_EQ(body.at("error").at("request_id"), "req-1");
}

TEST(Router, HeadUsesTheGetRouteUnlessOneIsRegistered) {
  Router router;
  router.add("GET", "/a", reply("get a"));
  router.add("GET", "/b", reply("get b"));
  router.add("HEAD", "/b", reply("head b"));
  EXPECT_EQ(router.match("HEAD", "/a").outcome, RouteMatch::Outcome::found);
  auto request = make_request("HEAD", "/b");
  EXPECT_EQ(router.handle(request).body, "head b");
}

TEST(Router, RejectsDuplicatesAndBadTemplates) {
  Router router;
  router.add("GET", "/devices/{id}", reply("x"));
  EXPECT_THROW(router.add("GET", "/devices/{device_id}", reply("y")), std::logic_error);
  EXPECT_NO_THROW(router.add("PUT", "/devices/{id}", reply("z")));
  EXPECT_THROW(router.add("get", "/x", reply("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "x", reply("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a/{id}/{id}", reply("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a/x{id}", reply("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a/{}", reply("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a", Handler{}), std::invalid_argument);
}

TEST(Router, HandleFillsParamsAndMapsHandlerErrors) {
  Router router;
  router.add("GET", "/devices/{id}", [](const Request& r) {
    if (r.path_param("id") == "missing") throw core::NotFound("device missing not found");
    return Response::text(200, r.route_template + " " + r.path_param("id"));
  });
  auto ok = make_request("GET", "/devices/d1");
  EXPECT_EQ(router.handle(ok).body, "/devices/{id} d1");
  auto missing = make_request("GET", "/devices/missing");
  auto response = router.handle(missing);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(boost::json::parse(response.body).at("error").at("message"), "device missing not found");
}

TEST(Router, ListsRoutesInRegistrationOrder) {
  Router router;
  router.add("GET", "/b", reply("b"), {.on_io_thread = true, .summary = "B"});
  router.add("POST", "/a", reply("a"), {.body_limit = 10});
  auto routes = router.routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].path_template, "/b");
  EXPECT_TRUE(routes[0].options.on_io_thread);
  EXPECT_EQ(routes[1].options.body_limit, 10u);
}

}  // namespace
}  // namespace factoryops::http
