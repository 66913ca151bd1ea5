// The one place that turns errors into HTTP responses with the JSON body
// {"error":{"code","message","request_id"[,"field"]}}. Stateless free functions, thread-safe.
// Messages of unexpected exceptions are logged and never returned to the client.
#pragma once

#include <exception>
#include <string_view>

#include "core/errors.hpp"
#include "http/types.hpp"

namespace factoryops::http {

// An error response with an explicit status and code, for protocol-level failures that have no
// ErrorKind (431 header_too_large).
Response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view request_id, std::string_view field = {});

Response error_response(core::ErrorKind kind, std::string_view message, std::string_view request_id,
                        std::string_view field = {});

// Maps any exception: core::Error (and Invalid, with its field) to its status; anything else,
// and core::Error of kind internal, to a generic 500 whose real message is only logged.
Response map_exception(std::exception_ptr error, std::string_view request_id);

}  // namespace factoryops::http
