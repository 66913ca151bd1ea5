#include "simulator/http_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "db/clock.hpp"

namespace factoryops::simulator {
namespace {

std::size_t keep_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() < 4096) body->append(data, std::min<std::size_t>(size * count, 4096 - body->size()));
  return size * count;
}

struct HttpMachine {
  MachineFeed feed;
  curl_slist* headers = nullptr;
  std::chrono::steady_clock::time_point due{};
};

// One connection: posts for its share of the machines, in turn, until the run is over.
void connection_loop(const SimulatorOptions& options, std::vector<HttpMachine>& machines,
                     const RunControl& control, RunStats& stats) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    stats.error("cannot create an HTTP handle");
    return;
  }
  const std::string endpoint = options.url + "/api/v1/ingest";
  std::string response;
  curl_easy_setopt(curl, CURLOPT_URL, endpoint.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const auto post_interval = options.rate_hz > 0
                                 ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(options.batch / options.rate_hz))
                                 : std::chrono::steady_clock::duration::zero();
  std::vector<tsdb::Reading> readings;
  std::string body;
  while (!control.over()) {
    // The machine whose next post is due first.
    auto next = std::min_element(machines.begin(), machines.end(),
                                 [](const HttpMachine& a, const HttpMachine& b) { return a.due < b.due; });
    auto now = std::chrono::steady_clock::now();
    if (next->due > now) {
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(next->due - now, std::chrono::milliseconds(100)));
      continue;
    }
    std::uint64_t values = next->feed.next(readings, db::now_ms());
    next->due = options.rate_hz > 0 ? next->due + post_interval : now;
    body = readings_json(readings);
    response.clear();
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, next->headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
      stats.error(std::string("request failed: ") + curl_easy_strerror(rc));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } else if (status != 202) {
      stats.error("HTTP " + std::to_string(status) + ": " + response);
    } else {
      stats.messages++;
      stats.readings += readings.size();
      stats.values += values;
    }
  }
  curl_easy_cleanup(curl);
}

}  // namespace

void run_http(const SimulatorOptions& options, const std::vector<DeviceCredentials>& devices,
              const RunControl& control, RunStats& stats) {
  const std::int64_t start_ms = db::now_ms();
  const auto started = std::chrono::steady_clock::now();
  const std::size_t connections =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(1, options.connections)), devices.size());
  std::vector<std::vector<HttpMachine>> shares(connections);
  const FeedOptions feed = feed_options(options);
  for (std::size_t i = 0; i < devices.size(); ++i) {
    HttpMachine machine{MachineFeed(feed, i, start_ms), nullptr, started};
    std::string auth = "Authorization: Device " + devices[i].api_key;
    machine.headers = curl_slist_append(nullptr, auth.c_str());
    machine.headers = curl_slist_append(machine.headers, "Content-Type: application/json");
    shares[i % connections].push_back(std::move(machine));
  }
  std::vector<std::thread> workers;
  for (auto& share : shares)
    workers.emplace_back(
        [&options, &share, &control, &stats] { connection_loop(options, share, control, stats); });
  for (auto& worker : workers) worker.join();
  for (auto& share : shares)
    for (auto& machine : share) curl_slist_free_all(machine.headers);
}

}  // namespace factoryops::simulator
