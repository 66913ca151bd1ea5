#include "simulator/simulator.hpp"

#include <curl/curl.h>
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "auth/context.hpp"
#include "core/errors.hpp"
#include "db/clock.hpp"
#include "db/factory_repository.hpp"
#include "devices/device_service.hpp"
#include "simulator/machine_model.hpp"

namespace factoryops::simulator {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

void append_double(std::string& out, double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, ec == std::errc() ? end : buffer);
}

std::size_t discard_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() < 4096) body->append(data, std::min<std::size_t>(size * count, 4096 - body->size()));
  return size * count;
}

struct SimDevice {
  const DeviceCredentials* credentials = nullptr;
  MachineModel model;
  curl_slist* headers = nullptr;
  std::int64_t next_ts_ms = 0;
  std::chrono::steady_clock::time_point due{};
};

struct Counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> readings{0};
  std::atomic<std::uint64_t> values{0};
  std::atomic<std::uint64_t> errors{0};
  std::mutex report_mutex;
  int reported_errors = 0;
};

void report_error(Counters& counters, const std::string& what) {
  std::lock_guard lock(counters.report_mutex);
  if (counters.reported_errors++ < 5) std::cerr << "simulate: " << what << "\n";
}

// Spacing of a machine's readings: 1/rate, or 1 s when posting as fast as possible.
std::int64_t step_ms(const SimulatorOptions& options) {
  return options.rate_hz > 0 ? std::max<std::int64_t>(1, static_cast<std::int64_t>(1000.0 / options.rate_hz))
                             : 1000;
}

// One connection: posts for its share of the machines, in turn, until told to stop.
void connection_loop(const SimulatorOptions& options, std::vector<SimDevice>& devices, Counters& counters,
                     const std::atomic<bool>& stop, std::chrono::steady_clock::time_point deadline) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    counters.errors++;
    report_error(counters, "cannot create an HTTP handle");
    return;
  }
  const std::string endpoint = options.url + "/api/v1/ingest";
  std::string response;
  curl_easy_setopt(curl, CURLOPT_URL, endpoint.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const std::int64_t step = step_ms(options);
  const auto post_interval = options.rate_hz > 0
                                 ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(options.batch / options.rate_hz))
                                 : std::chrono::steady_clock::duration::zero();
  std::vector<tsdb::Reading> readings;
  std::string body;
  const auto batch = static_cast<std::size_t>(options.batch);
  while (!stop.load() && !g_interrupted.load() && std::chrono::steady_clock::now() < deadline) {
    // The machine whose next post is due first.
    auto next = std::min_element(devices.begin(), devices.end(),
                                 [](const SimDevice& a, const SimDevice& b) { return a.due < b.due; });
    auto now = std::chrono::steady_clock::now();
    if (next->due > now) {
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(next->due - now, std::chrono::milliseconds(100)));
      continue;
    }
    readings.clear();
    std::uint64_t values = 0;
    for (std::size_t i = 0; i < batch; ++i) {
      readings.push_back(next->model.sample(next->next_ts_ms));
      values += readings.back().fields.size();
      next->next_ts_ms += step;
    }
    // As fast as possible: simulated time runs ahead of the clock; stay inside the accepted window.
    if (options.rate_hz == 0 && next->next_ts_ms > db::now_ms())
      next->next_ts_ms = db::now_ms() - 30 * tsdb::kDayMs;
    next->due = options.rate_hz > 0 ? next->due + post_interval : now;
    body = readings_json(readings);
    response.clear();
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, next->headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    CURLcode rc = curl_easy_perform(curl);
    counters.requests++;
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
      counters.errors++;
      report_error(counters, std::string("request failed: ") + curl_easy_strerror(rc));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } else if (status != 202) {
      counters.errors++;
      report_error(counters, "HTTP " + std::to_string(status) + ": " + response);
    } else {
      counters.readings += batch;
      counters.values += values;
    }
  }
  curl_easy_cleanup(curl);
}

}  // namespace

void validate(const SimulatorOptions& o) {
  if (auto problem = core::slug_problem(o.factory)) throw core::Invalid("--factory", *problem);
  if (o.devices < 1 || o.devices > 10'000) throw core::Invalid("--devices", "must be between 1 and 10000");
  if (!(o.rate_hz >= 0) || o.rate_hz > 1000)
    throw core::Invalid("--rate", "must be between 0 (as fast as possible) and 1000 readings per second");
  if (o.transport != "http") throw core::Invalid("--transport", "only 'http' is supported");
  if (!o.url.starts_with("http://") && !o.url.starts_with("https://"))
    throw core::Invalid("--url", "must start with http:// or https://");
  if (!(o.duration_seconds >= 0))
    throw core::Invalid("--duration", "must be 0 (until interrupted) or more seconds");
  if (o.batch < 1 || o.batch > 5000) throw core::Invalid("--batch", "must be between 1 and 5000 readings");
  if (o.connections < 1 || o.connections > 256)
    throw core::Invalid("--connections", "must be between 1 and 256");
}

std::string readings_json(std::span<const tsdb::Reading> readings) {
  std::string out;
  out.reserve(readings.size() * 320);
  out.push_back('[');
  for (std::size_t i = 0; i < readings.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{\"ts\":";
    out += std::to_string(readings[i].ts_ms);
    for (const auto& field : readings[i].fields) {
      out += ",\"";
      out += field.key;  // model keys need no escaping
      out += "\":";
      append_double(out, field.value);
    }
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

std::vector<DeviceCredentials> provision_devices(db::Database& database, const core::FactoryId& factory,
                                                 int count) {
  if (!db::FactoryRepository(database).find(factory))
    throw core::Invalid("--factory",
                        "no factory '" + factory.str() + "' (create it with admin create-factory)");
  devices::DeviceService service(database);
  // The simulator acts as the operator who runs it: audited without a user.
  auth::FactoryContext context{.factory_id = factory,
                               .user_id = 0,
                               .email = "simulator",
                               .role = auth::Role::super_admin,
                               .permissions = {},
                               .request_id = "simulate",
                               .ip = "local"};
  std::vector<DeviceCredentials> out;
  for (int i = 1; i <= count; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "sim-%03d", i);
    devices::NewDevice input;
    input.device_id = id;
    input.name = "Simulated machine " + std::to_string(i);
    input.type = "simulated";
    try {
      out.push_back({id, service.create(context, input).api_key});
    } catch (const core::Conflict&) {
      out.push_back({id, service.rotate_key(context, id).api_key});
    }
  }
  return out;
}

SimulationSummary run_simulation(const SimulatorOptions& options,
                                 const std::vector<DeviceCredentials>& devices, const std::atomic<bool>& stop,
                                 std::ostream* progress) {
  validate(options);
  const std::int64_t start_ms = db::now_ms();
  const std::size_t threads =
      std::min<std::size_t>(static_cast<std::size_t>(options.connections), devices.size());
  std::vector<std::vector<SimDevice>> shares(threads);
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < devices.size(); ++i) {
    MachineProfile profile;
    // Machines differ in size; the seed decides, so runs are repeatable.
    profile.rated_kw = 15.0 + static_cast<double>((options.seed * 7919 + i * 104729) % 85);
    SimDevice device{&devices[i], MachineModel(options.seed * 1'000'003ULL + i, profile), nullptr, 0,
                     started};
    std::string auth = "Authorization: Device " + devices[i].api_key;
    device.headers = curl_slist_append(nullptr, auth.c_str());
    device.headers = curl_slist_append(device.headers, "Content-Type: application/json");
    // Paced runs post a batch when its last reading is due, so no reading lies in the future;
    // load runs replay the last 30 days at 1 s steps, ahead of the clock.
    device.next_ts_ms = options.rate_hz > 0 ? start_ms - (options.batch - 1) * step_ms(options)
                                            : start_ms - 30 * tsdb::kDayMs;
    shares[i % threads].push_back(std::move(device));
  }
  const auto deadline = options.duration_seconds > 0
                            ? started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                            std::chrono::duration<double>(options.duration_seconds))
                            : std::chrono::steady_clock::time_point::max();
  Counters counters;
  std::atomic<bool> finished{false};
  std::vector<std::thread> workers;
  for (auto& share : shares)
    workers.emplace_back([&] { connection_loop(options, share, counters, stop, deadline); });
  std::thread reporter([&] {
    auto last = started;
    std::uint64_t last_values = 0;
    while (!finished.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(5) || progress == nullptr) continue;
      std::uint64_t values = counters.values.load();
      double rate =
          static_cast<double>(values - last_values) / std::chrono::duration<double>(now - last).count();
      *progress << "simulate: "
                << static_cast<long long>(std::chrono::duration<double>(now - started).count()) << " s, "
                << counters.readings.load() << " readings, " << values << " values, "
                << static_cast<long long>(rate) << " values/s, " << counters.errors.load() << " errors"
                << std::endl;
      last = now;
      last_values = values;
    }
  });
  for (auto& w : workers) w.join();
  finished = true;
  reporter.join();
  for (auto& share : shares)
    for (auto& d : share) curl_slist_free_all(d.headers);
  SimulationSummary summary;
  summary.requests = counters.requests.load();
  summary.readings = counters.readings.load();
  summary.values = counters.values.load();
  summary.errors = counters.errors.load();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

int simulate_command(const core::Config& config, const SimulatorOptions& given) {
  SimulatorOptions options = given;
  // Without --url, the server this configuration describes.
  if (options.url.empty()) options.url = "http://127.0.0.1:" + std::to_string(config.http_port);
  std::vector<DeviceCredentials> devices;
  try {
    validate(options);
    auto database = db::Database::open(config.database_url);
    devices = provision_devices(*database, core::FactoryId(options.factory), options.devices);
  } catch (const core::Invalid& e) {
    std::cerr << "factoryops simulate: " << e.what() << "\n";
    return kExitUsage;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::cout << "simulate: " << devices.size() << " machines in factory " << options.factory << " -> "
            << options.url << " (rate " << options.rate_hz << " Hz, batch " << options.batch << ", "
            << options.connections << " connections)" << std::endl;
  std::atomic<bool> stop{false};
  auto summary = run_simulation(options, devices, stop, &std::cout);
  curl_global_cleanup();
  double rate = summary.seconds > 0 ? static_cast<double>(summary.values) / summary.seconds : 0;
  std::printf(
      "simulate: done in %.1f s: %llu requests, %llu readings, %llu values, %.0f values/s, %llu errors\n",
      summary.seconds, static_cast<unsigned long long>(summary.requests),
      static_cast<unsigned long long>(summary.readings), static_cast<unsigned long long>(summary.values),
      rate, static_cast<unsigned long long>(summary.errors));
  std::fflush(stdout);
  return summary.requests > 0 && summary.errors == summary.requests ? kExitFailure : kExitOk;
}

}  // namespace factoryops::simulator
