#include "harness/mariadb.hpp"

#include "harness/factoryops.hpp"

#include <pwd.h>
#include <unistd.h>

#include <random>
#include <stdexcept>
#include <thread>

namespace factoryops::testing {
namespace {

std::string random_password() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device rd;
  std::uniform_int_distribution<std::size_t> pick(0, sizeof kAlphabet - 2);
  std::string out = "Pw-";
  for (int i = 0; i < 20; ++i) out += kAlphabet[pick(rd)];
  return out;
}

std::string current_user() {
  if (geteuid() == 0) return "root";
  if (const passwd* pw = getpwuid(geteuid())) return pw->pw_name;
  return "nobody";
}

std::string program(const std::string& name) {
  auto path = find_program(name);
  if (!path) throw std::runtime_error(name + " not found (install mariadb-server)");
  return path->string();
}

}  // namespace

bool MariaDbServer::available() {
  return find_program("mariadbd").has_value() && find_program("mariadb-install-db").has_value() &&
         find_program("mariadb").has_value();
}

MariaDbServer::MariaDbServer() : dir_("factoryops-mariadb"), password_(random_password()) {
  register_secret(password_);
}

MariaDbServer::~MariaDbServer() {
  stop();
}

std::unique_ptr<MariaDbServer> MariaDbServer::start() {
  std::unique_ptr<MariaDbServer> server(new MariaDbServer());
  const auto began = std::chrono::steady_clock::now();
  const auto data = server->dir_.path() / "data";
  // --auth-root-authentication-method=normal: root logs in with an (empty) password over
  // the socket instead of unix_socket auth, which would require the OS user to be root.
  RunResult init =
      run({program("mariadb-install-db"), "--no-defaults", "--auth-root-authentication-method=normal",
           "--datadir=" + data.string(), "--user=" + current_user(), "--skip-test-db"},
          {}, std::chrono::seconds(120));
  if (init.status != 0) throw std::runtime_error("mariadb-install-db failed:\n" + init.output);
  server->port_ = free_port();
  server->boot();
  const std::string& u = server->user_;
  server->admin_sql("CREATE USER '" + u + "'@'%' IDENTIFIED BY '" + server->password_ +
                    "'; GRANT ALL PRIVILEGES ON *.* TO '" + u + "'@'%'; CREATE DATABASE factoryops_test;");
  server->startup_time_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  return server;
}

MariaDbServer& MariaDbServer::shared() {
  static std::unique_ptr<MariaDbServer> instance = start();
  return *instance;
}

void MariaDbServer::boot() {
  const auto& dir = dir_.path();
  ProcessOptions o;
  // Small buffers and relaxed flushing: a test server holds little data and need not
  // survive a power cut; it starts in well under a second this way.
  o.argv = {program("mariadbd"),
            "--no-defaults",
            "--datadir=" + (dir / "data").string(),
            "--socket=" + (dir / "sock").string(),
            "--port=" + std::to_string(port_),
            "--bind-address=127.0.0.1",
            "--user=" + current_user(),
            "--pid-file=" + (dir / "mariadbd.pid").string(),
            "--log-error=" + (dir / "error.log").string(),
            "--skip-name-resolve",
            "--skip-log-bin",
            "--performance-schema=OFF",
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M",
            "--innodb-flush-log-at-trx-commit=0",
            "--max-connections=200"};
  o.log_file = dir / "stdout.log";
  server_.emplace(std::move(o));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    if (!server_->running()) {
      std::string log = server_->log();
      RunResult err = run({"/bin/cat", (dir / "error.log").string()});
      server_.reset();
      throw std::runtime_error("mariadbd exited during startup:\n" + log + err.output);
    }
    if (wait_for_port(port_, std::chrono::milliseconds(100))) {
      RunResult ping = run({program("mariadb"), "--no-defaults", "--protocol=socket",
                            "--socket=" + (dir / "sock").string(), "-uroot", "-e", "SELECT 1"},
                           {}, std::chrono::seconds(10));
      if (ping.status == 0) break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      RunResult err = run({"/bin/cat", (dir / "error.log").string()});
      throw std::runtime_error("mariadbd did not answer within 60 s:\n" + err.output);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string MariaDbServer::url_for(const std::string& database) const {
  return "mysql://" + user_ + ":" + password_ + "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string MariaDbServer::admin_sql(const std::string& sql) {
  RunResult r = run({program("mariadb"), "--no-defaults", "--protocol=socket",
                     "--socket=" + (dir_.path() / "sock").string(), "-uroot", "--batch", "-e", sql},
                    {}, std::chrono::seconds(60));
  if (r.status != 0) throw std::runtime_error("mariadb client failed: " + r.output);
  return r.output;
}

std::string MariaDbServer::create_database(const std::string& name) {
  admin_sql("DROP DATABASE IF EXISTS `" + name + "`; CREATE DATABASE `" + name + "`;");
  return url_for(name);
}

void MariaDbServer::stop() {
  if (server_) {
    server_->stop(std::chrono::seconds(20));
    server_.reset();
  }
}

void MariaDbServer::restart() {
  stop();
  const auto began = std::chrono::steady_clock::now();
  boot();
  startup_time_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
}

bool MariaDbServer::running() {
  return server_ && server_->running();
}

}  // namespace factoryops::testing
