#include "harness/notify_servers.hpp"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "harness/factoryops.hpp"
#include "harness/wait.hpp"

namespace factoryops::testing {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::vector<boost::json::object> read_records(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<boost::json::object> records;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    records.push_back(boost::json::parse(text.str()).as_object());
  }
  return records;
}

// Starts a tool script and waits until it listens on `port`.
std::unique_ptr<Process> start_tool(const std::string& what, int port, std::vector<std::string> argv,
                                    const std::filesystem::path& log) {
  ProcessOptions o;
  o.argv = std::move(argv);
  o.log_file = log;
  auto process = std::make_unique<Process>(o);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process->running()) throw std::runtime_error(what + " exited during start-up:\n" + process->log());
    if (wait_for_port(port, std::chrono::milliseconds(100))) return process;
  }
  throw std::runtime_error(what + " did not start listening:\n" + process->log());
}

std::string random_hex(std::size_t digits) {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  std::uniform_int_distribution<int> pick(0, 15);
  std::string s;
  for (std::size_t i = 0; i < digits; ++i) s += "0123456789abcdef"[pick(gen)];
  return s;
}

}  // namespace

SmtpSink::SmtpSink(Mode mode) : mode_(mode), port_(free_port()), password_(make_secret(24)) {
  auto openssl = find_program("openssl");
  if (!openssl) throw std::runtime_error("openssl is not installed (make setup installs it)");
  // A certificate made for this run: the sender must verify it against ca_file(), exactly as
  // it verifies a real server against the system store.
  RunResult cert =
      run({openssl->string(), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
           "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
           (dir_.path() / "key.pem").string(), "-out", (dir_.path() / "cert.pem").string()});
  if (cert.status != 0) throw std::runtime_error("openssl could not make a certificate:\n" + cert.output);
  std::filesystem::create_directories(dir_.path() / "messages");
  const char* mode_name = mode == Mode::starttls ? "starttls" : mode == Mode::smtps ? "smtps" : "plain";
  process_ =
      start_tool("aiosmtpd", port_,
                 {kPython, source_dir() + "/tests/tools/smtp_sink.py", mode_name, std::to_string(port_),
                  (dir_.path() / "cert.pem").string(), (dir_.path() / "key.pem").string(), username_,
                  password_, (dir_.path() / "messages").string()},
                 dir_.path() / "smtp.log");
}

std::string SmtpSink::url() const {
  return std::string(mode_ == Mode::smtps ? "smtps" : "smtp") + "://127.0.0.1:" + std::to_string(port_);
}

std::vector<boost::json::object> SmtpSink::messages() const {
  return read_records(dir_.path() / "messages");
}

bool SmtpSink::wait_for_messages(std::size_t count, std::chrono::milliseconds timeout) const {
  return eventually([&] { return messages().size() >= count; }, timeout);
}

void SmtpSink::stop() {
  if (process_) process_->stop(std::chrono::seconds(5));
}

TwilioMock::TwilioMock()
    : port_(free_port()), account_sid_("AC" + random_hex(32)), auth_token_(make_secret(32)) {
  std::filesystem::create_directories(dir_.path() / "requests");
  process_ = start_tool("twilio mock", port_,
                        {kPython, source_dir() + "/tests/tools/twilio_mock.py", std::to_string(port_),
                         account_sid_, auth_token_, (dir_.path() / "requests").string()},
                        dir_.path() / "twilio.log");
}

std::vector<boost::json::object> TwilioMock::requests() const {
  return read_records(dir_.path() / "requests");
}

void TwilioMock::stop() {
  if (process_) process_->stop(std::chrono::seconds(5));
}

}  // namespace factoryops::testing
