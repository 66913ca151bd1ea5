#include "http/error_mapper.hpp"

#include <boost/json.hpp>

#include "core/logging.hpp"

namespace factoryops::http {
namespace json = boost::json;

Response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view request_id, std::string_view field) {
  json::object error;
  error["code"] = code;
  error["message"] = message;
  error["request_id"] = request_id;
  if (!field.empty()) error["field"] = field;
  json::object body;
  body["error"] = std::move(error);
  return Response::json(status, json::serialize(body));
}

Response error_response(core::ErrorKind kind, std::string_view message, std::string_view request_id,
                        std::string_view field) {
  return error_response(core::http_status(kind), core::error_code(kind), message, request_id, field);
}

Response map_exception(std::exception_ptr error, std::string_view request_id) {
  static constexpr std::string_view kGeneric = "internal server error";
  try {
    std::rethrow_exception(error);
  } catch (const core::Invalid& e) {
    log::debug("request rejected", {{"code", core::error_code(e.kind())}, {"error", e.what()}});
    return error_response(e.kind(), e.what(), request_id, e.field());
  } catch (const core::Error& e) {
    if (e.kind() == core::ErrorKind::internal) {
      log::error("request failed", {{"error", e.what()}});
      return error_response(e.kind(), kGeneric, request_id);
    }
    if (core::http_status(e.kind()) >= 500) {
      log::warn("request failed", {{"code", core::error_code(e.kind())}, {"error", e.what()}});
    } else {
      log::debug("request rejected", {{"code", core::error_code(e.kind())}, {"error", e.what()}});
    }
    return error_response(e.kind(), e.what(), request_id);
  } catch (const std::exception& e) {
    // The message of an unexpected exception may quote a query, a URL or a credential:
    // it goes to the log, which redacts secret fields, and never to the client.
    log::error("unhandled exception in request", {{"error", e.what()}});
  } catch (...) {
    log::error("unhandled exception in request", {{"error", "non-standard exception"}});
  }
  return error_response(core::ErrorKind::internal, kGeneric, request_id);
}

}  // namespace factoryops::http
