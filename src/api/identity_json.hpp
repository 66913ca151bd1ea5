// JSON shapes shared by the identity routes (users, sessions, audit): request-body parsing
// with field-naming errors, timestamps, and the user object of docs/api-identity.md.
// Stateless free functions, thread-safe. Included by route .cpp files only.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/audit_service.hpp"
#include "http/types.hpp"
#include "users/user_repository.hpp"

namespace factoryops::api {

// The body as a JSON object; core::Error(malformed_request) when it is not one.
boost::json::object parse_json_object(const http::Request& request);

// A required string field; core::Invalid(name, …) when missing or not a string.
std::string required_string(const boost::json::object& body, std::string_view name);
// An optional string field (absent or null -> nullopt); core::Invalid when of another type.
std::optional<std::string> optional_string(const boost::json::object& body, std::string_view name);

// RFC 3339 UTC with milliseconds: "2026-11-27T16:03:05.361Z".
std::string format_timestamp_ms(std::int64_t epoch_ms);
// Parses RFC 3339 ("…Z" or "±hh:mm", optional fraction); nullopt when malformed.
std::optional<std::int64_t> parse_timestamp_ms(std::string_view text);

boost::json::object user_json(const users::User& user);

// Who made the request, for the audit trail: the peer address (X-Forwarded-For is not
// trusted; see docs/security.md) and the request id.
audit::RequestMeta request_meta(const http::Request& request,
                                std::optional<std::int64_t> user_id = std::nullopt);

http::Response json_response(int status, const boost::json::object& body);

// A path parameter holding a resource's id. Anything but a positive integer names no resource of
// any factory, so it is answered like an unknown one: core::NotFound("{what} not found").
std::int64_t id_path_param(const http::Request& request, std::string_view name, std::string_view what);

// An optional integer query parameter (absent or empty: nullopt); core::Invalid naming it when it
// is not an integer from `min` to `max`.
std::optional<std::int64_t> int_query(const http::Request& request, std::string_view name, std::int64_t min,
                                      std::int64_t max);

// An optional RFC 3339 time query parameter, as epoch ms; core::Invalid naming it when malformed.
std::optional<std::int64_t> time_query(const http::Request& request, std::string_view name);

}  // namespace factoryops::api
