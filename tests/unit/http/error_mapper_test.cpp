#include "http/error_mapper.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace factoryops::http {
namespace {

template <typename E>
Response map(E error) {
  return map_exception(std::make_exception_ptr(std::move(error)), "rid-42");
}

TEST(ErrorMapper, TypedErrorsKeepStatusCodeAndMessage) {
  auto response = map(core::NotFound("device d9 not found"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(response.body,
            R"({"error":{"code":"not_found","message":"device d9 not found","request_id":"rid-42"}})");
  EXPECT_EQ(map(core::Conflict("exists")).status, 409);
  EXPECT_EQ(map(core::Unauthorized("no token")).status, 401);
  EXPECT_EQ(map(core::Forbidden("no")).status, 403);
  EXPECT_EQ(map(core::Unavailable("db down")).status, 503);
}

TEST(ErrorMapper, InvalidAddsTheField) {
  auto response = map(core::Invalid("device_id", "must match [a-z0-9][a-z0-9_-]{0,63}"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(
      response.body,
      R"({"error":{"code":"invalid_argument","message":"device_id: must match [a-z0-9][a-z0-9_-]{0,63}",)"
      R"("request_id":"rid-42","field":"device_id"}})");
}

TEST(ErrorMapper, UnexpectedExceptionsNeverLeakTheirMessage) {
  auto response = map(std::runtime_error("connect mysql://root:hunter2@db failed"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(response.body,
            R"({"error":{"code":"internal","message":"internal server error","request_id":"rid-42"}})");

  auto internal = map(core::Error(core::ErrorKind::internal, "secret detail"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("secret"), std::string::npos);

  auto odd = map_exception(std::make_exception_ptr(42), "rid-42");
  EXPECT_EQ(odd.status, 500);
}

TEST(ErrorMapper, EscapesJson) {
  auto response = error_response(431, "header_too_large", "quote \" and \\ and \n", "r");
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(response.body,
            R"({"error":{"code":"header_too_large","message":"quote \" and \\ and \n","request_id":"r"}})");
}

}  // namespace
}  // namespace factoryops::http
