// The built factoryops binary under test: `serve` on a free loopback port with its own data
// directory, or one-shot CLI commands. Logs go to $FACTORYOPS_TEST_LOG_DIR (kept for the
// log-secrets check of a full run) or to the temporary directory. Secrets a test hands to
// factoryops are recorded with register_secret() so that check can look for them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/http_client.hpp"
#include "harness/process.hpp"

namespace factoryops::testing {

// Path of the factoryops binary built alongside the tests.
std::string factoryops_binary();
std::string source_dir();

// Appends a secret to the run's secrets list (no-op without FACTORYOPS_TEST_LOG_DIR).
void register_secret(const std::string& secret);

// Where a factoryops log named `label` goes.
std::filesystem::path log_path(const std::string& label);

// A random printable secret of `length` characters, already registered.
std::string make_secret(size_t length = 40);

struct ServeOptions {
  // The API alone, with device provisioning on the broker off, unless a test sets the MQTT
  // variables (MosquittoServer::serve_env()) and the roles it needs.
  std::string roles = "api";
  std::map<std::string, std::string> env;  // FACTORYOPS_* overrides
  std::string label = "serve";
  bool wait_ready = true;
  // Empty: a fresh directory of this server's own. Set it to restart a server over its state.
  std::filesystem::path data_dir{};
};

class FactoryopsServer {
 public:
  explicit FactoryopsServer(ServeOptions options = {});
  ~FactoryopsServer();
  FactoryopsServer(const FactoryopsServer&) = delete;
  FactoryopsServer& operator=(const FactoryopsServer&) = delete;

  int port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  Process& process() { return *process_; }
  std::string log() const { return process_->log(); }

  HttpResponse get(const std::string& target, const std::map<std::string, std::string>& headers = {}) const {
    return http_get(port_, target, headers);
  }
  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {}) const {
    return http_request(port_, method, target, headers, body);
  }

  // Waits until /health answers (any status); throws with the log if the process died.
  void wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  TempDir dir_{"factoryops-serve"};
  std::filesystem::path data_dir_;
  int port_;
  std::unique_ptr<Process> process_;
};

// Runs `factoryops <args…>` with the given FACTORYOPS_* environment (the parent's FACTORYOPS_*
// variables are not inherited) and returns its exit status and output.
RunResult run_factoryops(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {},
                         const std::optional<std::string>& stdin_data = std::nullopt);

}  // namespace factoryops::testing
