#include "http/router.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "core/errors.hpp"
#include "http/error_mapper.hpp"

namespace factoryops::http {
namespace {

// "/" -> {""}, "/a/b" -> {"a","b"}, "/a/" -> {"a",""}: an empty last segment keeps the
// trailing slash significant.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

bool valid_param_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_method(std::string_view method) {
  return !method.empty() &&
         std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

std::string_view target_path(std::string_view target) {
  return target.substr(0, target.find('?'));
}

void Router::add(std::string_view method, std::string_view path_template, Handler handler,
                 RouteOptions options) {
  const std::string where = std::string(method) + " " + std::string(path_template);
  if (!valid_method(method)) throw std::invalid_argument("route " + where + ": method must be upper case");
  if (path_template.empty() || path_template.front() != '/') {
    throw std::invalid_argument("route " + where + ": template must start with '/'");
  }
  if (!handler) throw std::invalid_argument("route " + where + ": empty handler");
  if (options.websocket && method != "GET") {
    throw std::invalid_argument("route " + where + ": only GET can upgrade to a WebSocket");
  }

  Route route;
  route.method = std::string(method);
  route.path_template = std::string(path_template);
  std::set<std::string_view> names;
  for (auto part : split_path(path_template)) {
    Segment segment;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      auto name = part.substr(1, part.size() - 2);
      if (!valid_param_name(name)) throw std::invalid_argument("route " + where + ": bad parameter name");
      if (!names.insert(name).second) throw std::invalid_argument("route " + where + ": repeated parameter");
      segment.is_param = true;
      segment.text = std::string(name);
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) {
        throw std::invalid_argument("route " + where + ": parameters must be whole segments");
      }
      segment.text = std::string(part);
    }
    route.segments.push_back(std::move(segment));
  }

  for (const auto& existing : routes_) {
    if (existing.method != route.method || existing.segments.size() != route.segments.size()) continue;
    bool same_shape = std::equal(existing.segments.begin(), existing.segments.end(), route.segments.begin(),
                                 [](const Segment& a, const Segment& b) {
                                   return a.is_param == b.is_param && (a.is_param || a.text == b.text);
                                 });
    if (same_shape) {
      throw std::logic_error("route " + where + " duplicates " + existing.method + " " +
                             existing.path_template);
    }
  }
  route.handler = std::move(handler);
  route.options = std::move(options);
  routes_.push_back(std::move(route));
}

RouteMatch Router::match(std::string_view method, std::string_view raw_path) const {
  RouteMatch result;
  if (raw_path.empty() || raw_path.front() != '/') return result;
  std::vector<std::string> segments;
  for (auto part : split_path(raw_path)) {
    auto decoded = percent_decode(part);
    if (!decoded) return result;
    segments.push_back(std::move(*decoded));
  }

  const Route* best = nullptr;
  bool best_is_exact_method = false;
  std::set<std::string> allowed;
  // Returns true when `a` is more specific than `b`: the first position where they differ is
  // a literal in `a`.
  auto more_specific = [](const Route& a, const Route& b) {
    for (std::size_t i = 0; i < a.segments.size(); ++i) {
      if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
    }
    return false;
  };
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    bool path_matches = true;
    for (std::size_t i = 0; i < segments.size() && path_matches; ++i) {
      const auto& seg = route.segments[i];
      path_matches = seg.is_param ? !segments[i].empty() : seg.text == segments[i];
    }
    if (!path_matches) continue;
    allowed.insert(route.method);
    bool exact = route.method == method;
    bool head_via_get = method == "HEAD" && route.method == "GET";
    if (!exact && !head_via_get) continue;
    if (best == nullptr || more_specific(route, *best) ||
        (!more_specific(*best, route) && exact && !best_is_exact_method)) {
      best = &route;
      best_is_exact_method = exact;
    }
  }

  if (best == nullptr) {
    if (!allowed.empty()) {
      if (allowed.contains("GET")) allowed.insert("HEAD");
      result.outcome = RouteMatch::Outcome::method_not_allowed;
      for (const auto& m : allowed) {
        if (!result.allow.empty()) result.allow += ", ";
        result.allow += m;
      }
    }
    return result;
  }
  result.outcome = RouteMatch::Outcome::found;
  result.handler = &best->handler;
  result.options = &best->options;
  result.route_template = best->path_template;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (best->segments[i].is_param)
      result.path_params.emplace(best->segments[i].text, std::move(segments[i]));
  }
  return result;
}

Response Router::unmatched_response(const RouteMatch& match, const Request& request) {
  if (match.outcome == RouteMatch::Outcome::method_not_allowed) {
    auto response = error_response(core::ErrorKind::method_not_allowed,
                                   "method " + request.method + " is not allowed here", request.request_id);
    response.headers.set("Allow", match.allow);
    return response;
  }
  return error_response(core::ErrorKind::not_found, "no such resource", request.request_id);
}

Response Router::handle(Request& request) const {
  auto found = match(request.method, target_path(request.target));
  if (found.outcome != RouteMatch::Outcome::found) return unmatched_response(found, request);
  request.path_params = std::move(found.path_params);
  request.route_template = std::move(found.route_template);
  try {
    return (*found.handler)(request);
  } catch (...) {
    return map_exception(std::current_exception(), request.request_id);
  }
}

std::vector<RouteEntry> Router::routes() const {
  std::vector<RouteEntry> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.push_back({route.method, route.path_template, route.options});
  return out;
}

}  // namespace factoryops::http
