// A deliberately small blocking HTTP/1.1 client for tests: one request per connection
// (Connection: close), or raw bytes for malformed-input tests. Not for production use.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace factoryops::testing {

struct HttpResponse {
  int status = 0;                              // 0 when no response could be read
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const;
};

HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::map<std::string, std::string>& headers = {},
                          const std::string& body = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

inline HttpResponse http_get(int port, const std::string& target,
                             const std::map<std::string, std::string>& headers = {}) {
  return http_request(port, "GET", target, headers);
}

// Sends raw bytes and returns everything the server sent back until it closed the
// connection or the timeout passed.
std::string raw_exchange(int port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Parses the first response out of raw bytes (status 0 when none).
HttpResponse parse_response(const std::string& raw);

}  // namespace factoryops::testing
