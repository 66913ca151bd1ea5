#include "http/types.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "core/errors.hpp"
#include "http/request_id.hpp"

namespace factoryops::http {
namespace {

TEST(Headers, AreCaseInsensitive) {
  Headers headers;
  headers.add("Content-Type", "application/json");
  headers.add("X-Thing", "1");
  headers.add("x-thing", "2");
  EXPECT_EQ(headers.get("content-type"), "application/json");
  EXPECT_EQ(headers.get("X-THING"), "1");
  headers.set("X-Thing", "3");
  EXPECT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers.get("x-thing"), "3");
  headers.remove("CONTENT-TYPE");
  EXPECT_FALSE(headers.contains("Content-Type"));
}

TEST(PercentDecode, DecodesAndRejectsBadEscapes) {
  EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("a%00b"));
}

TEST(ParseTarget, SplitsPathAndQuery) {
  std::string path;
  std::multimap<std::string, std::string> query;
  ASSERT_TRUE(parse_target("/api/v1/x%20y?a=1&b=two+words&a=3&flag&=empty", path, query));
  EXPECT_EQ(path, "/api/v1/x y");
  EXPECT_EQ(query.count("a"), 2u);
  EXPECT_EQ(query.find("b")->second, "two words");
  EXPECT_EQ(query.find("flag")->second, "");
  EXPECT_FALSE(parse_target("http://example.com/", path, query));
  EXPECT_FALSE(parse_target("*", path, query));
  EXPECT_FALSE(parse_target("/a?x=%zz", path, query));
}

TEST(Request, QueryAndPathParams) {
  Request request;
  request.query.emplace("limit", "10");
  request.path_params["id"] = "d1";
  EXPECT_EQ(request.query_param("limit"), "10");
  EXPECT_FALSE(request.query_param("offset"));
  EXPECT_EQ(request.path_param("id"), "d1");
  EXPECT_THROW(request.path_param("nope"), core::Invalid);
}

TEST(Response, Helpers) {
  auto json = Response::json(201, "{}");
  EXPECT_EQ(json.status, 201);
  EXPECT_EQ(json.headers.get("Content-Type"), "application/json");
  auto text = Response::text(200, "hi");
  EXPECT_EQ(text.headers.get("content-type"), "text/plain; charset=utf-8");
  auto empty = Response::no_content();
  EXPECT_EQ(empty.status, 204);
  EXPECT_TRUE(empty.body.empty());
  EXPECT_EQ(json.body_text(), "{}");
}

TEST(Response, ASharedBodyIsReferencedNotCopied) {
  auto page = std::make_shared<const std::string>(R"({"items":[]})");
  auto response = Response::json(200, page);
  EXPECT_EQ(response.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(response.shared_body, page);
  EXPECT_EQ(response.body_text().data(), page->data());
  EXPECT_EQ(response.body_text(), R"({"items":[]})");
  EXPECT_THROW(Response::json(200, std::shared_ptr<const std::string>()), std::invalid_argument);
}

TEST(RequestId, AcceptsSaneTokensOnly) {
  EXPECT_TRUE(is_valid_request_id("abc-123_x.y:z"));
  EXPECT_TRUE(is_valid_request_id(std::string(128, 'a')));
  EXPECT_FALSE(is_valid_request_id(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_request_id(""));
  EXPECT_FALSE(is_valid_request_id("has space"));
  EXPECT_FALSE(is_valid_request_id("inject\r\nX-Evil: 1"));
  EXPECT_FALSE(is_valid_request_id("quote\""));
  EXPECT_EQ(request_id_from("client-id-1"), "client-id-1");
  EXPECT_NE(request_id_from("bad id"), "bad id");
}

TEST(RequestId, GeneratesDistinct128BitHexIds) {
  auto a = generate_request_id();
  auto b = generate_request_id();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(is_valid_request_id(request_id_from(std::nullopt)));
}

}  // namespace
}  // namespace factoryops::http
