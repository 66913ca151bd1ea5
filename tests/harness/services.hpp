// Real servers from Debian packages for integration tests: Redis, Mosquitto and InfluxDB 1.x
// (MariaDB lives in mariadb.hpp). Each starts on a free loopback port in its own temporary
// directory, is ready when its constructor returns (it answered a real protocol request),
// and is stopped when the object dies. Not thread-safe; one owner per server.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "harness/process.hpp"

namespace factoryops::testing {

class RedisServer {
 public:
  RedisServer();
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  // Sends one inline command and returns the first reply line, e.g. "+PONG".
  std::string command(const std::string& line) const;
  Process& process() { return *process_; }
  // SAVE, then SIGTERM: start() brings the server back on the same port with the same data,
  // as a production Redis with persistence would after a restart.
  void stop();
  void start();

 private:
  TempDir dir_{"factoryops-redis"};
  int port_;
  std::unique_ptr<Process> process_;
};

// Mosquitto with the dynamic-security plugin, as `make up` runs it: anonymous clients refused,
// an admin client (random password) that FactoryOps uses to provision device keys, and
// persistence, so stop()/start() keeps sessions, queued messages and credentials.
class MosquittoServer {
 public:
  MosquittoServer();
  int port() const { return port_; }
  std::string url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }
  const std::string& admin_username() const { return admin_username_; }
  const std::string& admin_password() const { return admin_password_; }
  // The password FactoryOps gives its telemetry client (FACTORYOPS_MQTT_PASSWORD).
  const std::string& telemetry_password() const { return telemetry_password_; }
  // FACTORYOPS_MQTT_* for a `factoryops serve` that provisions devices on this broker.
  std::map<std::string, std::string> serve_env() const;
  // Connects with MQTT 3.1.1 and returns the CONNACK return code (0 = accepted, 5 = not
  // authorised), -1 on failure.
  int connect_return_code(const std::string& client_id, const std::string& username = {},
                          const std::string& password = {}) const;
  Process& process() { return *process_; }
  const std::filesystem::path& directory() const { return dir_.path(); }
  // SIGTERM (the broker saves its state) and start again on the same port.
  void stop();
  void start();

 private:
  TempDir dir_{"factoryops-mosquitto"};
  int port_;
  std::string admin_username_ = "factoryops-admin";
  std::string admin_password_;
  std::string telemetry_password_;
  std::unique_ptr<Process> process_;
};

class InfluxServer {
 public:
  explicit InfluxServer(std::string database = "factoryops_test");
  int port() const { return port_; }
  std::string url() const { return "influxdb://127.0.0.1:" + std::to_string(port_) + "/" + database_; }
  const std::string& database() const { return database_; }
  Process& process() { return *process_; }
  const std::filesystem::path& directory() const { return dir_.path(); }
  // Stops influxd (SIGTERM) and starts it again on the same port over the same data, e.g. to
  // test what clients do while it is down. start() returns once it answers /ping.
  void stop();
  void start();

 private:
  TempDir dir_{"factoryops-influxdb"};
  std::string database_;
  int port_;
  std::unique_ptr<Process> process_;
};

}  // namespace factoryops::testing
