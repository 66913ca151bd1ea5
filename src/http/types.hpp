// HTTP request and response values that handlers see, independent of the network library.
// Plain value types: not synchronised, owned by the connection that reads or writes them for
// the duration of one request.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace factoryops::http {

bool iequals(std::string_view a, std::string_view b);

// Header fields in arrival order; names compare case-insensitively.
class Headers {
 public:
  // The first value of `name`, if present.
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  // Replaces every field called `name` with one field.
  void set(std::string_view name, std::string_view value);
  void add(std::string_view name, std::string_view value);
  void remove(std::string_view name);

  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  std::size_t size() const { return fields_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;                             // upper case as received: "GET", "POST", …
  std::string target;                             // raw request target: path and query, still percent-encoded
  std::string path;                               // percent-decoded path, no query
  std::multimap<std::string, std::string> query;  // decoded query parameters ('+' is a space)
  Headers headers;
  std::string body;
  std::map<std::string, std::string> path_params;  // from the matched template's {name} segments
  std::string request_id;
  std::string remote_address;
  std::string route_template;  // e.g. "/api/v1/devices/{device_id}", set once matched

  // The first value of a query parameter.
  std::optional<std::string_view> query_param(std::string_view name) const;
  // A path parameter of the matched template; throws core::Invalid if the route has none so named.
  const std::string& path_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;  // the body, unless shared_body is set
  // An immutable body shared with a cache (a serialised page): sent as it lies, never copied.
  // When set, it is the body and `body` stays empty.
  std::shared_ptr<const std::string> shared_body;

  // The body to send, whichever member holds it.
  std::string_view body_text() const {
    if (shared_body) return std::string_view(*shared_body);
    return std::string_view(body);
  }

  static Response json(int status, std::string body);
  // Throws std::invalid_argument for a null `body`.
  static Response json(int status, std::shared_ptr<const std::string> body);
  static Response text(int status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");
  static Response no_content();
};

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, for query strings).
// Returns nullopt for a truncated or non-hex escape, or an encoded NUL byte.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// Splits `target` into a decoded path and query parameters. Returns false when the target is
// not origin-form ("/…") or holds an invalid escape.
bool parse_target(std::string_view target, std::string& path, std::multimap<std::string, std::string>& query);

}  // namespace factoryops::http
