#include "harness/factoryops.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace factoryops::testing {
namespace {

std::vector<std::string> inherited_factoryops_variables() {
  std::vector<std::string> names;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    if (kv.rfind("FACTORYOPS_", 0) == 0) names.push_back(kv.substr(0, kv.find('=')));
  }
  return names;
}

std::atomic<int> g_log_counter{0};

}  // namespace

std::string factoryops_binary() {
  if (const char* b = std::getenv("FACTORYOPS_TEST_BINARY")) return b;
  return FACTORYOPS_BINARY;
}

std::string source_dir() {
  return FACTORYOPS_SOURCE_DIR;
}

void register_secret(const std::string& secret) {
  const char* dir = std::getenv("FACTORYOPS_TEST_LOG_DIR");
  if (dir == nullptr || secret.empty()) return;
  std::filesystem::create_directories(dir);
  std::ofstream(std::filesystem::path(dir) / "secrets.txt", std::ios::app) << secret << "\n";
}

std::filesystem::path log_path(const std::string& label) {
  int n = ++g_log_counter;
  std::string name =
      "factoryops-" + label + "-" + std::to_string(getpid()) + "-" + std::to_string(n) + ".log";
  if (const char* dir = std::getenv("FACTORYOPS_TEST_LOG_DIR")) {
    std::filesystem::create_directories(dir);
    return std::filesystem::path(dir) / name;
  }
  return std::filesystem::temp_directory_path() / name;
}

std::string make_secret(size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device rd;
  std::mt19937_64 gen(rd());
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string s;
  for (size_t i = 0; i < length; ++i) s.push_back(kAlphabet[pick(gen)]);
  register_secret(s);
  return s;
}

FactoryopsServer::FactoryopsServer(ServeOptions options)
    : data_dir_(options.data_dir.empty() ? dir_.path() / "data" : options.data_dir), port_(free_port()) {
  std::string secret = make_secret();
  ProcessOptions o;
  o.argv = {factoryops_binary(), "serve", "--roles=" + options.roles};
  o.unset_env = inherited_factoryops_variables();
  o.env = {{"FACTORYOPS_HTTP_PORT", std::to_string(port_)},
           {"FACTORYOPS_HTTP_ADDRESS", "127.0.0.1"},
           {"FACTORYOPS_DATA_DIR", data_dir_.string()},
           {"FACTORYOPS_JWT_SECRET", secret},
           {"FACTORYOPS_STATIC_DIR", (dir_.path() / "no-web-app").string()},
           {"FACTORYOPS_LOG_LEVEL", "debug"},
           {"FACTORYOPS_MQTT_PROVISIONING", "off"}};
  for (const auto& [k, v] : options.env) o.env[k] = v;
  o.log_file = log_path(options.label);
  process_ = std::make_unique<Process>(std::move(o));
  if (options.wait_ready) wait_ready();
}

FactoryopsServer::~FactoryopsServer() = default;

void FactoryopsServer::wait_ready(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) throw std::runtime_error("factoryops exited during start-up:\n" + log());
    if (http_get(port_, "/health").status != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("factoryops did not answer /health in time:\n" + log());
}

RunResult run_factoryops(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                         const std::optional<std::string>& stdin_data) {
  TempDir dir("factoryops-cli");
  ProcessOptions o;
  o.argv = {factoryops_binary()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.unset_env = inherited_factoryops_variables();
  o.env = env;
  o.log_file = log_path("cli");
  o.stdin_data = stdin_data;
  Process p(std::move(o));
  RunResult r;
  auto status = p.wait(std::chrono::seconds(60));
  r.status = status ? *status : p.stop(std::chrono::seconds(1));
  r.output = p.log();
  return r;
}

}  // namespace factoryops::testing
