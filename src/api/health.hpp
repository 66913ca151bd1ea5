// HealthService: the GET /health report (HLD 8.3). Owns one background thread that runs the
// dependency checks once per refresh interval, so a request only copies the latest report and
// never runs a check itself (the route runs on the I/O thread). Thread-safe. The service stops
// its thread on destruction; it must outlive the routes that use it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "http/types.hpp"

namespace factoryops::api {

struct DependencyProbe {
  std::string name;      // the key under "dependencies", e.g. "mysql"
  bool required = true;  // a required dependency down makes the service unhealthy (503)
  // True when the dependency answers. Must bound its own time (connect/read timeouts); a throw
  // counts as down.
  std::function<bool()> check;
};

class HealthService {
 public:
  // Starts the refresher thread, which runs the first check immediately.
  HealthService(std::string service, std::vector<DependencyProbe> probes,
                std::chrono::milliseconds refresh_interval = std::chrono::seconds(1));
  ~HealthService();
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  // The latest report as a response: 200 healthy/degraded, 503 unhealthy. Before the first check
  // has finished it waits for it (at most `first_check_wait`, then answers unhealthy).
  http::Response respond(std::chrono::milliseconds first_check_wait = std::chrono::seconds(5)) const;

 private:
  struct Report {
    int status = 503;
    std::string body;
  };

  Report check_all() const;
  void refresh_loop(std::stop_token stop);

  const std::string service_;
  const std::vector<DependencyProbe> probes_;
  const std::chrono::milliseconds interval_;

  mutable std::mutex mutex_;
  mutable std::condition_variable_any ready_;
  std::shared_ptr<const Report> latest_;  // null until the first check completes
  std::jthread refresher_;                // last: starts after every other member exists
};

// "healthy" | "degraded" | "unhealthy" for a set of probe results, and the HTTP status to send.
struct HealthVerdict {
  std::string_view status;
  int http_status;
};
HealthVerdict health_verdict(const std::vector<DependencyProbe>& probes, const std::vector<bool>& up);

}  // namespace factoryops::api
