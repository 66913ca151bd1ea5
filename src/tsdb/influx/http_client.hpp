// The HTTP side of the InfluxDB engine: the parsed influxdb:// URL and a small pool of
// keep-alive libcurl handles for /write, /query and /ping. Thread-safe: each call borrows a
// handle from the pool. Lives as long as the store that owns it.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace factoryops::tsdb::influx {

struct Endpoint {
  std::string base_url;  // http(s)://host:port
  std::string database;
  std::string user;
  std::string password;
  std::string token;
};

// influxdb://[user:password@]host[:port]/database (http) or influxdbs://… (https).
// Throws core::Invalid("tsdb_url", why).
Endpoint parse_influx_url(std::string_view url, std::string token);

struct HttpResponse {
  bool delivered = false;  // false: no HTTP answer at all (refused, timeout, TLS…)
  long status = 0;
  std::string body;
  std::string transport_error;
};

class HttpClient {
 public:
  explicit HttpClient(Endpoint endpoint);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }

  // POST /write?db=…&precision=ms with a gzip-compressed line-protocol body.
  HttpResponse write(std::string_view gzip_body);
  // POST /query?db=…&epoch=ms with q in the form body (statements separated by ';').
  HttpResponse query(std::string_view influxql);
  HttpResponse ping();

 private:
  void* acquire();
  void release(void* handle);
  HttpResponse perform(const std::string& url, const std::string* body, bool gzip_body, long timeout_ms);
  std::string escape(std::string_view text);

  Endpoint endpoint_;
  std::mutex mutex_;
  std::vector<void*> idle_;  // CURL*, kept open for keep-alive
};

}  // namespace factoryops::tsdb::influx
