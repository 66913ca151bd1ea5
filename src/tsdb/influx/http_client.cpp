#include "tsdb/influx/http_client.hpp"

#include <curl/curl.h>

#include <boost/url/parse.hpp>

#include "core/errors.hpp"

namespace factoryops::tsdb::influx {
namespace {

// Enough handles for the writers and readers of one process; more are created on demand
// and closed instead of pooled.
constexpr std::size_t kMaxIdleHandles = 8;
constexpr long kConnectTimeoutMs = 2000;
constexpr long kWriteTimeoutMs = 15000;
constexpr long kQueryTimeoutMs = 30000;
// Answers larger than this are refused: a query is bounded by its limits, so more means a bug.
constexpr std::size_t kMaxAnswerBytes = 256u << 20;

std::once_flag curl_init_once;

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * count > kMaxAnswerBytes) return 0;
  body->append(data, size * count);
  return size * count;
}

}  // namespace

Endpoint parse_influx_url(std::string_view url, std::string token) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw core::Invalid("tsdb_url", "not a URL");
  Endpoint e;
  std::string scheme(parsed->scheme());
  std::string protocol;
  if (scheme == "influxdb") {
    protocol = "http";
  } else if (scheme == "influxdbs") {
    protocol = "https";
  } else {
    throw core::Invalid("tsdb_url", "scheme must be influxdb or influxdbs");
  }
  if (parsed->host().empty()) throw core::Invalid("tsdb_url", "host is missing");
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "8086";
  std::string host(parsed->encoded_host());
  e.base_url = protocol + "://" + host + ":" + port;
  std::string path = parsed->path();
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  if (path.empty() || path.find('/') != std::string::npos) {
    throw core::Invalid("tsdb_url", "the path must name the database: influxdb://host:8086/<database>");
  }
  e.database = path;
  if (parsed->has_userinfo()) {
    e.user = parsed->user();
    e.password = parsed->password();
  }
  e.token = std::move(token);
  return e;
}

HttpClient::HttpClient(Endpoint endpoint) : endpoint_(std::move(endpoint)) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::release(void* handle) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

std::string HttpClient::escape(std::string_view text) {
  char* escaped = curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size()));
  std::string out = escaped ? escaped : "";
  curl_free(escaped);
  return out;
}

HttpResponse HttpClient::perform(const std::string& url, const std::string* body, bool gzip_body,
                                 long timeout_ms) {
  auto* curl = static_cast<CURL*>(acquire());
  HttpResponse response;
  if (!curl) {
    response.transport_error = "curl_easy_init failed";
    return response;
  }
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // accept gzip answers
  if (!endpoint_.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, endpoint_.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, endpoint_.password.c_str());
  }
  curl_slist* headers = nullptr;
  std::string auth;
  if (!endpoint_.token.empty()) {
    auth = "Authorization: Token " + endpoint_.token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    if (gzip_body) {
      headers = curl_slist_append(headers, "Content-Encoding: gzip");
      headers = curl_slist_append(headers, "Content-Type: text/plain; charset=utf-8");
    } else {
      headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
    }
  }
  if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    response.delivered = true;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  } else {
    response.transport_error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  // A handle whose transfer failed may hold a broken connection: do not pool it.
  if (rc == CURLE_OK) {
    release(curl);
  } else {
    curl_easy_cleanup(curl);
  }
  return response;
}

HttpResponse HttpClient::write(std::string_view gzip_body) {
  std::string url = endpoint_.base_url + "/write?precision=ms&db=" + escape(endpoint_.database);
  std::string body(gzip_body);
  return perform(url, &body, true, kWriteTimeoutMs);
}

HttpResponse HttpClient::query(std::string_view influxql) {
  std::string url = endpoint_.base_url + "/query?epoch=ms&db=" + escape(endpoint_.database);
  std::string body = "q=" + escape(influxql);
  return perform(url, &body, false, kQueryTimeoutMs);
}

HttpResponse HttpClient::ping() {
  return perform(endpoint_.base_url + "/ping", nullptr, false, kConnectTimeoutMs);
}

}  // namespace factoryops::tsdb::influx
