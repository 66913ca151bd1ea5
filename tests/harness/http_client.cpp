#include "harness/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace factoryops::testing {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

int connect_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string{} : it->second;
}

std::string raw_exchange(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  int fd = connect_loopback(port);
  if (fd < 0) return {};
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (true) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    // Stop once a complete response with a Content-Length body has arrived.
    HttpResponse r = parse_response(out);
    if (r.status != 0) {
      auto head_end = out.find("\r\n\r\n");
      auto cl = r.header("content-length");
      if (!cl.empty() && out.size() >= head_end + 4 + std::stoul(cl)) break;
    }
  }
  close(fd);
  return out;
}

HttpResponse parse_response(const std::string& raw) {
  HttpResponse r;
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.rfind("HTTP/1.", 0) != 0) return r;
  auto line_end = raw.find("\r\n");
  std::string status_line = raw.substr(0, line_end);
  auto sp = status_line.find(' ');
  if (sp == std::string::npos) return r;
  r.status = std::atoi(status_line.c_str() + sp + 1);
  size_t pos = line_end + 2;
  while (pos < head_end) {
    auto eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[lower(line.substr(0, colon))] = value;
    }
    pos = eol + 2;
  }
  std::string body = raw.substr(head_end + 4);
  auto cl = r.header("content-length");
  if (!cl.empty()) body = body.substr(0, std::min<size_t>(body.size(), std::stoul(cl)));
  r.body = body;
  return r;
}

HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::map<std::string, std::string>& headers, const std::string& body,
                          std::chrono::milliseconds timeout) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  return parse_response(raw_exchange(port, req, timeout));
}

}  // namespace factoryops::testing
