#include "harness/services.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

#include "harness/factoryops.hpp"
#include "harness/http_client.hpp"

namespace factoryops::testing {
namespace {

std::filesystem::path require_program(const std::string& name) {
  auto p = find_program(name);
  if (!p) throw std::runtime_error(name + " is not installed (make setup installs it)");
  return *p;
}

// One request/response over a fresh TCP connection; returns what arrived within the timeout.
std::string tcp_exchange(int port, const std::string& bytes, size_t want_at_least,
                         std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (out.size() < want_at_least) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return out;
}

template <typename Ready>
void wait_until_ready(const std::string& what, Process& process, Ready ready,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process.running()) throw std::runtime_error(what + " exited during start-up:\n" + process.log());
    if (ready()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error(what + " did not become ready in time:\n" + process.log());
}

}  // namespace

RedisServer::RedisServer() : port_(free_port()) {
  start();
}

void RedisServer::stop() {
  if (!process_) return;
  command("SAVE");
  process_->stop();
  process_.reset();
}

void RedisServer::start() {
  ProcessOptions o;
  o.argv = {require_program("redis-server").string(),
            "--port",
            std::to_string(port_),
            "--bind",
            "127.0.0.1",
            "--dir",
            dir_.path().string(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no"};
  o.log_file = dir_.path() / "redis.log";
  process_ = std::make_unique<Process>(std::move(o));
  wait_until_ready("redis-server", *process_, [this] { return command("PING").rfind("+PONG", 0) == 0; });
}

std::string RedisServer::command(const std::string& line) const {
  std::string reply = tcp_exchange(port_, line + "\r\n", 3);
  auto eol = reply.find("\r\n");
  return eol == std::string::npos ? reply : reply.substr(0, eol);
}

MosquittoServer::MosquittoServer() : port_(free_port()) {
  admin_password_ = make_secret(32);
  telemetry_password_ = make_secret(32);
  auto dynsec = dir_.path() / "dynamic-security.json";
  auto init = run({require_program("mosquitto_ctrl").string(), "dynsec", "init", dynsec.string(),
                   admin_username_, admin_password_});
  if (init.status != 0) throw std::runtime_error("mosquitto_ctrl dynsec init failed:\n" + init.output);
  std::filesystem::path plugin;
  for (const char* candidate : {"/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
                                "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
                                "/usr/lib/mosquitto_dynamic_security.so"}) {
    if (std::filesystem::exists(candidate)) plugin = candidate;
  }
  if (plugin.empty()) throw std::runtime_error("mosquitto's dynamic-security plugin is not installed");
  const passwd* user = getpwuid(geteuid());
  auto conf = dir_.path() / "mosquitto.conf";
  std::ofstream(conf) << "per_listener_settings false\n"
                      << "listener " << port_ << " 127.0.0.1\n"
                      << "allow_anonymous false\n"
                      << "plugin " << plugin.string() << "\n"
                      << "plugin_opt_config_file " << dynsec.string() << "\n"
                      << "persistence true\n"
                      << "persistence_location " << dir_.path().string() << "/\n"
                      << "max_queued_messages 1000000\n"
                      << "max_inflight_messages 1000\n"
                      << "user " << (user != nullptr ? user->pw_name : "root") << "\n"
                      << "log_dest stderr\n"
                      << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  start();
}

std::map<std::string, std::string> MosquittoServer::serve_env() const {
  return {{"FACTORYOPS_MQTT_URL", url()},
          {"FACTORYOPS_MQTT_PROVISIONING", "dynsec"},
          {"FACTORYOPS_MQTT_ADMIN_USERNAME", admin_username_},
          {"FACTORYOPS_MQTT_ADMIN_PASSWORD", admin_password_},
          {"FACTORYOPS_MQTT_PASSWORD", telemetry_password_}};
}

void MosquittoServer::stop() {
  if (process_) process_->stop();
}

void MosquittoServer::start() {
  ProcessOptions o;
  o.argv = {require_program("mosquitto").string(), "-c", (dir_.path() / "mosquitto.conf").string()};
  o.log_file = dir_.path() / "mosquitto.log";
  process_ = std::make_unique<Process>(std::move(o));
  wait_until_ready("mosquitto", *process_, [this] {
    return connect_return_code("factoryops-harness", admin_username_, admin_password_) == 0;
  });
}

int MosquittoServer::connect_return_code(const std::string& client_id, const std::string& username,
                                         const std::string& password) const {
  auto field = [](const std::string& text) {
    std::string out;
    out.push_back(static_cast<char>(text.size() >> 8));
    out.push_back(static_cast<char>(text.size() & 0xff));
    return out + text;
  };
  // MQTT 3.1.1 CONNECT: protocol name, level 4, flags (clean session, username, password),
  // keep-alive 10 s; payload: client id, username, password.
  char flags = 0x02;
  if (!username.empty()) flags = static_cast<char>(flags | 0x80);
  if (!password.empty()) flags = static_cast<char>(flags | 0x40);
  std::string variable = std::string("\x00\x04MQTT\x04", 7) + flags + std::string("\x00\x0a", 2);
  std::string payload = field(client_id);
  if (!username.empty()) payload += field(username);
  if (!password.empty()) payload += field(password);
  std::string packet(1, '\x10');
  std::size_t remaining = variable.size() + payload.size();
  do {
    auto byte = static_cast<unsigned char>(remaining % 128);
    remaining /= 128;
    if (remaining > 0) byte |= 0x80;
    packet.push_back(static_cast<char>(byte));
  } while (remaining > 0);
  packet += variable + payload;
  std::string reply = tcp_exchange(port_, packet, 4);
  if (reply.size() < 4 || static_cast<unsigned char>(reply[0]) != 0x20) return -1;
  return static_cast<unsigned char>(reply[3]);
}

InfluxServer::InfluxServer(std::string database) : database_(std::move(database)), port_(free_port()) {
  int rpc_port = free_port();
  auto conf = dir_.path() / "influxdb.conf";
  auto d = dir_.path();
  std::ofstream(conf) << "reporting-disabled = true\n"
                      << "bind-address = \"127.0.0.1:" << rpc_port << "\"\n"
                      << "[meta]\n  dir = \"" << (d / "meta").string() << "\"\n"
                      << "[data]\n  dir = \"" << (d / "data").string() << "\"\n"
                      << "  wal-dir = \"" << (d / "wal").string() << "\"\n"
                      << "  query-log-enabled = false\n"
                      << "[monitor]\n  store-enabled = false\n"
                      << "[http]\n  bind-address = \"127.0.0.1:" << port_ << "\"\n"
                      << "  log-enabled = false\n"
                      << "[continuous_queries]\n  log-enabled = false\n";
  start();
  auto created = http_request(port_, "POST", "/query?q=CREATE+DATABASE+" + database_,
                              {{"Content-Type", "application/x-www-form-urlencoded"}});
  if (created.status != 200) throw std::runtime_error("influxd: CREATE DATABASE failed: " + created.body);
}

void InfluxServer::stop() {
  if (process_) process_->stop();
}

void InfluxServer::start() {
  ProcessOptions o;
  o.argv = {require_program("influxd").string(), "run", "-config", (dir_.path() / "influxdb.conf").string()};
  o.log_file = dir_.path() / "influxd.log";
  process_.reset();
  process_ = std::make_unique<Process>(std::move(o));
  wait_until_ready("influxd", *process_, [this] { return http_get(port_, "/ping").status == 204; });
}

}  // namespace factoryops::testing
