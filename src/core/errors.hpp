// Typed errors that service and handler code throws; the HTTP layer maps each kind to a
// status and the JSON error body in one place (http/error_mapper). Value types, thread-safe.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace factoryops::core {

enum class ErrorKind {
  invalid_argument,    // 400: a field or parameter is wrong
  malformed_request,   // 400: the request itself cannot be parsed (bad JSON, bad HTTP)
  unauthorized,        // 401
  forbidden,           // 403 (never used for another factory's resources: those are NotFound)
  not_found,           // 404
  method_not_allowed,  // 405
  conflict,            // 409
  payload_too_large,   // 413
  unsupported_media,   // 415
  rate_limited,        // 429
  unavailable,         // 503: a required dependency is down
  internal,            // 500
};

// The stable machine-readable code put in {"error":{"code":…}}.
std::string_view error_code(ErrorKind kind);
int http_status(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// A bad field: the message names the field and why it is wrong.
class Invalid : public Error {
 public:
  Invalid(std::string field, const std::string& why)
      : Error(ErrorKind::invalid_argument, field + ": " + why), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

class NotFound : public Error {
 public:
  explicit NotFound(std::string what) : Error(ErrorKind::not_found, std::move(what)) {}
};

class Conflict : public Error {
 public:
  explicit Conflict(std::string what) : Error(ErrorKind::conflict, std::move(what)) {}
};

class Unauthorized : public Error {
 public:
  explicit Unauthorized(std::string what) : Error(ErrorKind::unauthorized, std::move(what)) {}
};

class Forbidden : public Error {
 public:
  explicit Forbidden(std::string what) : Error(ErrorKind::forbidden, std::move(what)) {}
};

class Unavailable : public Error {
 public:
  explicit Unavailable(std::string what) : Error(ErrorKind::unavailable, std::move(what)) {}
};

}  // namespace factoryops::core
