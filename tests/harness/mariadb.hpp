// A throwaway MariaDB server for integration tests: initialised in a temporary directory,
// listening on a free loopback port, with a password-protected `factoryops` user that may
// create databases. The shared() instance is started once per test process; private
// instances (start()) serve tests that stop the server. Not thread-safe; the server is
// stopped (SIGTERM, then SIGKILL) when the object dies.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "harness/process.hpp"

namespace factoryops::testing {

class MariaDbServer {
 public:
  // Throws std::runtime_error (with the server's error log) when it cannot start.
  static std::unique_ptr<MariaDbServer> start();
  // Started lazily on first call; stopped when the test process exits.
  static MariaDbServer& shared();
  // Both binaries (mariadbd, mariadb-install-db) are installed.
  static bool available();

  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  int port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  // mysql://factoryops:<password>@127.0.0.1:<port>/factoryops_test
  std::string url() const { return url_for("factoryops_test"); }
  std::string url_for(const std::string& database) const;

  // Drops `name` if it exists, creates it empty and returns its URL.
  std::string create_database(const std::string& name);
  // Runs SQL as root over the Unix socket; throws with the client's output on failure.
  std::string admin_sql(const std::string& sql);

  void stop();
  // Starts the server again on the same port and data directory (after stop()).
  void restart();
  bool running();
  // Wall time of the last start (install + boot the first time, boot only on restart).
  std::chrono::milliseconds startup_time() const { return startup_time_; }

 private:
  MariaDbServer();
  void boot();

  TempDir dir_;
  int port_ = 0;
  std::string user_ = "factoryops";
  std::string password_;
  std::optional<Process> server_;
  std::chrono::milliseconds startup_time_{0};
};

}  // namespace factoryops::testing
