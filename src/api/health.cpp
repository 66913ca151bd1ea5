#include "api/health.hpp"

#include <boost/json.hpp>

#include "core/logging.hpp"

namespace factoryops::api {
namespace json = boost::json;

HealthVerdict health_verdict(const std::vector<DependencyProbe>& probes, const std::vector<bool>& up) {
  bool optional_down = false;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (up[i]) continue;
    if (probes[i].required) return {"unhealthy", 503};
    optional_down = true;
  }
  return optional_down ? HealthVerdict{"degraded", 200} : HealthVerdict{"healthy", 200};
}

HealthService::HealthService(std::string service, std::vector<DependencyProbe> probes,
                             std::chrono::milliseconds refresh_interval)
    : service_(std::move(service)),
      probes_(std::move(probes)),
      interval_(refresh_interval),
      refresher_([this](std::stop_token stop) { refresh_loop(stop); }) {}

HealthService::~HealthService() {
  refresher_.request_stop();
  ready_.notify_all();
}

HealthService::Report HealthService::check_all() const {
  std::vector<bool> up;
  up.reserve(probes_.size());
  for (const auto& probe : probes_) {
    bool ok = false;
    try {
      ok = probe.check && probe.check();
    } catch (const std::exception& e) {
      log::warn("health check threw", {{"dependency", probe.name}, {"error", e.what()}});
    }
    up.push_back(ok);
  }
  auto verdict = health_verdict(probes_, up);
  // Key order is part of the contract: status, service, dependencies (HLD 8.3).
  json::object dependencies;
  for (std::size_t i = 0; i < probes_.size(); ++i) dependencies[probes_[i].name] = up[i] ? "ok" : "down";
  json::object body;
  body["status"] = verdict.status;
  body["service"] = service_;
  body["dependencies"] = std::move(dependencies);
  return Report{verdict.http_status, json::serialize(body)};
}

void HealthService::refresh_loop(std::stop_token stop) {
  std::string previous_body;
  while (!stop.stop_requested()) {
    auto report = std::make_shared<const Report>(check_all());
    if (report->body != previous_body) {
      // Only transitions are worth a line; a steady state would log every second.
      log::info("health changed", {{"status", report->status}, {"report", report->body}});
      previous_body = report->body;
    }
    std::unique_lock lock(mutex_);
    latest_ = std::move(report);
    ready_.notify_all();
    ready_.wait_for(lock, stop, interval_, [] { return false; });
  }
}

http::Response HealthService::respond(std::chrono::milliseconds first_check_wait) const {
  std::shared_ptr<const Report> report;
  {
    std::unique_lock lock(mutex_);
    if (!latest_) ready_.wait_for(lock, first_check_wait, [this] { return latest_ != nullptr; });
    report = latest_;
  }
  if (!report) {
    json::object dependencies;
    for (const auto& probe : probes_) dependencies[probe.name] = "down";
    json::object body;
    body["status"] = "unhealthy";
    body["service"] = service_;
    body["dependencies"] = std::move(dependencies);
    return http::Response::json(503, json::serialize(body));
  }
  auto response = http::Response::json(report->status, report->body);
  response.headers.set("Cache-Control", "no-store");
  return response;
}

}  // namespace factoryops::api
