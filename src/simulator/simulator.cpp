#include "simulator/simulator.hpp"

#include <curl/curl.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "auth/context.hpp"
#include "core/errors.hpp"
#include "db/factory_repository.hpp"
#include "devices/device_service.hpp"
#include "mqtt/client.hpp"
#include "mqtt/dynsec.hpp"
#include "simulator/http_transport.hpp"
#include "simulator/mqtt_transport.hpp"

namespace factoryops::simulator {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Set by SIGINT/SIGTERM; the run winds down (MQTT machines say goodbye) and the summary prints.
std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

void print_summary(const SimulatorOptions& options, const SimulationSummary& summary) {
  double values_rate = summary.seconds > 0 ? static_cast<double>(summary.values) / summary.seconds : 0;
  if (options.transport == "http") {
    std::printf(
        "simulate: done in %.1f s: %llu requests, %llu readings, %llu values, %.0f values/s, %llu errors\n",
        summary.seconds, static_cast<unsigned long long>(summary.requests),
        static_cast<unsigned long long>(summary.readings), static_cast<unsigned long long>(summary.values),
        values_rate, static_cast<unsigned long long>(summary.errors));
  } else {
    if (summary.unrouted > 0) {
      std::printf("simulate: %llu messages reached no subscriber: is a telemetry role running?\n",
                  static_cast<unsigned long long>(summary.unrouted));
    }
    double readings_rate = summary.seconds > 0 ? static_cast<double>(summary.readings) / summary.seconds : 0;
    std::printf(
        "simulate: done in %.1f s: %llu messages, %llu readings, %llu values, %.0f readings/s, %.0f "
        "values/s, "
        "%llu refused, %llu errors\n",
        summary.seconds, static_cast<unsigned long long>(summary.requests),
        static_cast<unsigned long long>(summary.readings), static_cast<unsigned long long>(summary.values),
        readings_rate, values_rate, static_cast<unsigned long long>(summary.refused),
        static_cast<unsigned long long>(summary.errors));
  }
  std::fflush(stdout);
}

}  // namespace

void validate(const SimulatorOptions& o) {
  if (auto problem = core::slug_problem(o.factory)) throw core::Invalid("--factory", *problem);
  if (o.devices < 1 || o.devices > 10'000) throw core::Invalid("--devices", "must be between 1 and 10000");
  if (!(o.rate_hz >= 0) || o.rate_hz > 1000)
    throw core::Invalid("--rate", "must be between 0 (as fast as possible) and 1000 readings per second");
  if (o.transport != "http" && o.transport != "mqtt")
    throw core::Invalid("--transport", "must be 'http' or 'mqtt'");
  if (!(o.duration_seconds >= 0))
    throw core::Invalid("--duration", "must be 0 (until interrupted) or more seconds");
  if (o.batch < 1 || o.batch > 5000) throw core::Invalid("--batch", "must be between 1 and 5000 readings");
  if (o.transport == "http") {
    if (!o.url.starts_with("http://") && !o.url.starts_with("https://"))
      throw core::Invalid("--url", "must start with http:// or https:// for the http transport");
    if (o.connections < 0 || o.connections > 256)
      throw core::Invalid("--connections", "must be between 1 and 256");
    if (o.qos != 1) throw core::Invalid("--qos", "applies to the mqtt transport only");
    if (o.inflight != 0) throw core::Invalid("--inflight", "applies to the mqtt transport only");
    if (o.threads != 0) throw core::Invalid("--threads", "applies to the mqtt transport only");
    return;
  }
  if (!o.url.starts_with("mqtt://") && !o.url.starts_with("tcp://"))
    throw core::Invalid("--url", "must look like mqtt://host:port for the mqtt transport");
  mqtt::parse_broker_url(o.url, "--url");
  if (o.connections != 0)
    throw core::Invalid("--connections",
                        "applies to the http transport only; over MQTT every machine has its own connection");
  if (o.qos != 0 && o.qos != 1) throw core::Invalid("--qos", "must be 0 or 1");
  if (o.inflight < 0 || o.inflight > 1000)
    throw core::Invalid("--inflight", "must be between 1 and 1000 messages per machine");
  if (o.threads < 0 || o.threads > 64) throw core::Invalid("--threads", "must be between 1 and 64");
}

FeedOptions feed_options(const SimulatorOptions& options) {
  return FeedOptions{
      .rate_hz = options.rate_hz, .batch = options.batch, .sequence = options.sequence, .seed = options.seed};
}

std::vector<DeviceCredentials> provision_devices(db::Database& database, const core::FactoryId& factory,
                                                 int count, devices::BrokerCredentials* broker) {
  if (!db::FactoryRepository(database).find(factory))
    throw core::Invalid("--factory",
                        "no factory '" + factory.str() + "' (create it with admin create-factory)");
  devices::DeviceService service(database);
  service.set_broker(broker);
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
  const auto started = std::chrono::steady_clock::now();
  RunControl control;
  control.stop = &stop;
  if (options.duration_seconds > 0)
    control.deadline = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(options.duration_seconds));
  RunStats stats;
  {
    std::function<std::string()> extra;
    if (options.transport == "mqtt") {
      extra = [&stats, total = devices.size()] {
        return std::to_string(stats.connected.load()) + "/" + std::to_string(total) + " connected, ";
      };
    }
    ProgressPrinter printer(stats, progress, std::move(extra));
    if (options.transport == "mqtt") {
      run_mqtt(options, devices, core::FactoryId(options.factory), control, stats);
    } else {
      run_http(options, devices, control, stats);
    }
  }
  SimulationSummary summary;
  summary.requests = stats.messages.load();
  summary.readings = stats.readings.load();
  summary.values = stats.values.load();
  summary.refused = stats.refused.load();
  summary.unrouted = stats.unrouted.load();
  summary.errors = stats.errors.load();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

int simulate_command(const core::Config& config, const SimulatorOptions& given) {
  SimulatorOptions options = given;
  // Without --url, the server or broker this configuration describes.
  if (options.url.empty())
    options.url = options.transport == "mqtt" ? config.mqtt_url
                                              : "http://127.0.0.1:" + std::to_string(config.http_port);
  std::vector<DeviceCredentials> devices;
  try {
    validate(options);
    if (options.transport == "mqtt") ensure_descriptors(options.devices);
    auto database = db::Database::open(config.database_url);
    // Over MQTT the broker must know each new key before a machine can connect with it. The
    // broker's admin credential is the configuration's, as for `serve`; with provisioning off
    // (EMQX) the broker asks FactoryOps and needs no telling.
    std::unique_ptr<mqtt::DynamicSecurity> broker;
    if (options.transport == "mqtt" && config.mqtt_provisioning == "dynsec") {
      broker = std::make_unique<mqtt::DynamicSecurity>(
          mqtt::DynamicSecurityOptions{mqtt::parse_broker_url(config.mqtt_url, "FACTORYOPS_MQTT_URL"),
                                       config.mqtt_admin_username, config.mqtt_admin_password});
    }
    devices = provision_devices(*database, core::FactoryId(options.factory), options.devices, broker.get());
  } catch (const core::Invalid& e) {
    std::cerr << "factoryops simulate: " << e.what() << "\n";
    return kExitUsage;
  } catch (const core::Unavailable& e) {
    std::cerr << "factoryops simulate: " << e.what() << "\n";
    return kExitFailure;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::cout << "simulate: " << devices.size() << " machines in factory " << options.factory << " -> "
            << options.url << " (rate " << options.rate_hz << " Hz, batch " << options.batch << ", ";
  if (options.transport == "mqtt") {
    std::cout << "QoS " << options.qos << ", " << (options.inflight > 0 ? options.inflight : kDefaultInflight)
              << " in flight per machine)" << std::endl;
  } else {
    std::cout << std::max(1, options.connections) << " connections)" << std::endl;
  }
  auto summary = run_simulation(options, devices, g_interrupted, &std::cout);
  curl_global_cleanup();
  print_summary(options, summary);
  std::uint64_t sent = summary.requests + summary.refused;
  return sent == 0 && summary.errors > 0 ? kExitFailure : kExitOk;
}

}  // namespace factoryops::simulator
