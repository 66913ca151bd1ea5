// Child processes for tests: a server binary started with its own arguments and environment,
// its output captured to a log file, stopped (SIGTERM, then SIGKILL) when the object dies.
// Children also die if the test process itself dies (PR_SET_PDEATHSIG), so a crashed test
// never leaves servers behind. Not thread-safe; one owner.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace factoryops::testing {

struct ProcessOptions {
  std::vector<std::string> argv;           // argv[0] is the program path
  std::map<std::string, std::string> env;  // added to (or replacing) the parent's
  std::vector<std::string> unset_env;      // removed from the inherited environment
  bool inherit_env = true;
  std::filesystem::path log_file;         // stdout+stderr; empty = /dev/null
  std::filesystem::path working_dir;      // empty = current
  std::optional<std::string> stdin_data;  // written to the child's stdin, then closed
};

class Process {
 public:
  explicit Process(ProcessOptions options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;

  int pid() const { return pid_; }
  bool running();
  // Sends a signal (SIGTERM, SIGKILL, SIGHUP…) to the child.
  void signal(int sig);
  // Waits for exit; returns the exit status (128+signal when killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  std::string log() const;
  const std::filesystem::path& log_file() const { return options_.log_file; }

 private:
  ProcessOptions options_;
  int pid_ = -1;
  std::optional<int> status_;
};

// Runs a command to completion (with a timeout) and returns exit status and output.
struct RunResult {
  int status = -1;
  std::string output;  // stdout and stderr interleaved
};
RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(60),
              const std::optional<std::string>& stdin_data = std::nullopt);

// A TCP port on 127.0.0.1 that is free now (bound then released).
int free_port();
// Polls until something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

// A fresh directory under $TMPDIR, removed (recursively) when the object dies unless
// FACTORYOPS_TEST_KEEP_DIRS is set.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "factoryops-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Finds an executable in PATH or the given candidate locations (e.g. /usr/sbin/mariadbd).
std::optional<std::filesystem::path> find_program(const std::string& name,
                                                  const std::vector<std::string>& extra_dirs = {
                                                      "/usr/sbin", "/usr/bin", "/usr/local/bin"});

}  // namespace factoryops::testing
