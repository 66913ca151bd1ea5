#include "core/errors.hpp"

namespace factoryops::core {

std::string_view error_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_argument: return "invalid_argument";
    case ErrorKind::malformed_request: return "malformed_request";
    case ErrorKind::unauthorized: return "unauthorized";
    case ErrorKind::forbidden: return "forbidden";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::method_not_allowed: return "method_not_allowed";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::payload_too_large: return "payload_too_large";
    case ErrorKind::unsupported_media: return "unsupported_media_type";
    case ErrorKind::rate_limited: return "rate_limited";
    case ErrorKind::unavailable: return "unavailable";
    case ErrorKind::internal: return "internal";
  }
  return "internal";
}

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_argument: return 400;
    case ErrorKind::malformed_request: return 400;
    case ErrorKind::unauthorized: return 401;
    case ErrorKind::forbidden: return 403;
    case ErrorKind::not_found: return 404;
    case ErrorKind::method_not_allowed: return 405;
    case ErrorKind::conflict: return 409;
    case ErrorKind::payload_too_large: return 413;
    case ErrorKind::unsupported_media: return 415;
    case ErrorKind::rate_limited: return 429;
    case ErrorKind::unavailable: return 503;
    case ErrorKind::internal: return 500;
  }
  return 500;
}

}  // namespace factoryops::core
