#include "api/identity_json.hpp"

#include "api/system_routes.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/errors.hpp"

namespace factoryops::api {
namespace json = boost::json;

json::object parse_json_object(const http::Request& request) {
  boost::system::error_code ec;
  json::value v = json::parse(request.body, ec);
  if (ec || !v.is_object()) {
    throw core::Error(core::ErrorKind::malformed_request, "the request body must be a JSON object");
  }
  return std::move(v.as_object());
}

std::string required_string(const json::object& body, std::string_view name) {
  auto it = body.find(name);
  if (it == body.end() || it->value().is_null()) throw core::Invalid(std::string(name), "is required");
  if (!it->value().is_string()) throw core::Invalid(std::string(name), "must be a string");
  return std::string(it->value().as_string());
}

std::optional<std::string> optional_string(const json::object& body, std::string_view name) {
  auto it = body.find(name);
  if (it == body.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_string()) throw core::Invalid(std::string(name), "must be a string");
  return std::string(it->value().as_string());
}

std::string format_timestamp_ms(std::int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(epoch_ms)};
  std::string out = format_rfc3339(time_point_cast<system_clock::duration>(t));
  auto millis = static_cast<unsigned>((t - floor<seconds>(t)).count());
  out.back() = '.';
  out += static_cast<char>('0' + millis / 100);
  out += static_cast<char>('0' + millis / 10 % 10);
  out += static_cast<char>('0' + millis % 10);
  out += 'Z';
  return out;
}

std::optional<std::int64_t> parse_timestamp_ms(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 20) return std::nullopt;
  std::string head(text.substr(0, 19));
  char t = 0;
  if (std::sscanf(head.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &t, &h, &mi, &s) != 7)
    return std::nullopt;
  if ((t != 'T' && t != 't') || head[4] != '-' || head[7] != '-' || head[13] != ':' || head[16] != ':')
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::string_view rest = text.substr(19);
  std::int64_t millis = 0;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) millis = millis * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    std::string off(rest.substr(1));
    if (std::sscanf(off.c_str(), "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59) return std::nullopt;
    offset_minutes = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  auto ymd = year_month_day{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset_minutes * 60;
  return secs * 1000 + millis;
}

json::object user_json(const users::User& u) {
  json::object o;
  o["id"] = u.id;
  o["factory_id"] = u.factory_id.str();
  o["email"] = u.email;
  o["name"] = u.name;
  o["role"] = auth::role_name(u.role);
  o["permissions"] = json::parse(auth::permissions_json(u.permissions));
  o["is_active"] = u.is_active;
  o["last_login_at"] =
      u.last_login_at_ms ? json::value(format_timestamp_ms(*u.last_login_at_ms)) : json::value(nullptr);
  o["created_at"] = format_timestamp_ms(u.created_at_ms);
  return o;
}

audit::RequestMeta request_meta(const http::Request& request, std::optional<std::int64_t> user_id) {
  audit::RequestMeta meta;
  meta.user_id = user_id;
  if (!request.remote_address.empty()) meta.ip = request.remote_address;
  if (!request.request_id.empty()) meta.request_id = request.request_id;
  return meta;
}

http::Response json_response(int status, const json::object& body) {
  return http::Response::json(status, json::serialize(body));
}

std::int64_t id_path_param(const http::Request& request, std::string_view name, std::string_view what) {
  const std::string& text = request.path_param(name);
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || id <= 0)
    throw core::NotFound(std::string(what) + " not found");
  return id;
}

std::optional<std::int64_t> int_query(const http::Request& request, std::string_view name, std::int64_t min,
                                      std::int64_t max) {
  auto text = request.query_param(name);
  if (!text || text->empty()) return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || ptr != text->data() + text->size() || v < min || v > max) {
    throw core::Invalid(std::string(name),
                        "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

std::optional<std::int64_t> time_query(const http::Request& request, std::string_view name) {
  auto text = request.query_param(name);
  if (!text || text->empty()) return std::nullopt;
  auto ms = parse_timestamp_ms(*text);
  if (!ms) throw core::Invalid(std::string(name), "must be an RFC 3339 time such as 2026-11-27T16:03:05Z");
  return ms;
}

}  // namespace factoryops::api
