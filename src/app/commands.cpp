#include "app/commands.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "alerts/alert_notifier.hpp"
#include "alerts/alert_service.hpp"
#include "api/alert_routes.hpp"
#include "api/audit_routes.hpp"
#include "api/auth_routes.hpp"
#include "api/device_routes.hpp"
#include "api/health.hpp"
#include "api/ingest_routes.hpp"
#include "api/job_routes.hpp"
#include "api/live_routes.hpp"
#include "api/mqtt_auth_routes.hpp"
#include "api/rule_routes.hpp"
#include "api/system_routes.hpp"
#include "api/telemetry_routes.hpp"
#include "api/user_routes.hpp"
#include "app/cli.hpp"
#include "app/roles.hpp"
#include "audit/audit_service.hpp"
#include "auth/jwt_authenticator.hpp"
#include "auth/key_ring_source.hpp"
#include "auth/password.hpp"
#include "auth/session_service.hpp"
#include "core/errors.hpp"
#include "core/ids.hpp"
#include "core/logging.hpp"
#include "core/thread_pool.hpp"
#include "core/version.hpp"
#include "db/clock.hpp"
#include "db/database.hpp"
#include "db/factory_repository.hpp"
#include "db/migrations.hpp"
#include "devices/device_service.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "ingest/device_directory.hpp"
#include "ingest/device_keys.hpp"
#include "ingest/discovery.hpp"
#include "ingest/pipeline.hpp"
#include "ingest/rejection_log.hpp"
#include "mqtt/client.hpp"
#include "mqtt/dynsec.hpp"
#include "mqtt/telemetry_ingestor.hpp"
#include "notify/channels.hpp"
#include "queue/dead_letter_service.hpp"
#include "queue/make_job_queue.hpp"
#include "queue/worker.hpp"
#include "rules/rule_dispatch.hpp"
#include "rules/rule_engine.hpp"
#include "rules/rule_scheduler.hpp"
#include "rules/rule_service.hpp"
#include "tsdb/retention_scheduler.hpp"
#include "tsdb/store.hpp"
#include "tsdb/telemetry_query_service.hpp"
#include "users/invitation_mailer.hpp"
#include "users/user_service.hpp"

namespace factoryops::app {
namespace {

std::unique_ptr<db::Database> open_database(const core::Config& config) {
  db::DatabaseOptions options;
  // One connection per worker thread: handlers run on the workers, so more could not be used.
  options.pool_size = static_cast<std::size_t>(std::max(2, config.worker_threads));
  return db::Database::open(config.database_url, options);
}

// The embedded default migrates on start; a shared MySQL/MariaDB schema is migrated by an
// operator (`factoryops migrate`), so several replicas never race to change it.
void prepare_schema(db::Database& database) {
  if (database.dialect() == db::Dialect::sqlite) {
    auto applied = db::migrate(database);
    for (const auto& name : applied) log::info("applied migration", {{"migration", name}});
    return;
  }
  for (const auto& m : db::migration_status(database)) {
    if (m.state != db::MigrationState::applied) {
      throw std::runtime_error("the database schema is not current (migration " + m.name + " is " +
                               std::string(db::migration_state_name(m.state)) +
                               "): run 'factoryops migrate' first");
    }
  }
}

// Admin commands open the store as serve does: SQLite is migrated in place, a shared
// MySQL/MariaDB schema must already be current.
std::unique_ptr<db::Database> open_prepared_database(const core::Config& config) {
  auto database = open_database(config);
  prepare_schema(*database);
  return database;
}

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// Blocks until SIGTERM or SIGINT; SIGHUP runs `reload` (re-read keys) and keeps waiting.
// The signals are blocked in every thread (the mask is set before any thread starts), so
// only this sigwait sees them.
int wait_for_shutdown_signal(const sigset_t& set, const std::function<void()>& reload) {
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log::info("SIGHUP received; reloading");
      if (reload) reload();
      continue;
    }
    return sig;
  }
}

// Exit codes of the admin commands: a bad field is a usage error (2), a conflict a failure (1).
int report_admin_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const core::Invalid& e) {
    std::cerr << "factoryops: " << e.what() << "\n";
    return kExitUsage;
  } catch (const core::Conflict& e) {
    std::cerr << "factoryops: " << e.what() << "\n";
    return kExitFailure;
  }
}

bool timezone_exists(const std::string& name) {
  if (name == "UTC") return true;
  if (!db::is_plausible_timezone(name)) return false;
  const char* tzdir = std::getenv("TZDIR");
  std::filesystem::path file = std::filesystem::path(tzdir != nullptr ? tzdir : "/usr/share/zoneinfo") / name;
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  // Zone files start with "TZif"; directories and other files under zoneinfo are not zones.
  return in.read(magic, 4) && std::string_view(magic, 4) == "TZif";
}

// Keeps the broker's credentials in line with the registry: the telemetry role's client first
// (retried until the broker answers), then device keys reconciled now and every ten minutes.
void maintain_broker(std::stop_token stop, mqtt::DynamicSecurity& broker, devices::DeviceService& devices,
                     const core::Config& config) {
  std::mutex m;
  std::condition_variable_any cv;
  auto pause = [&](std::chrono::milliseconds how_long) {
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, how_long, [] { return false; });
  };
  auto delay = std::chrono::milliseconds(500);
  bool warned = false;
  while (!stop.stop_requested()) {
    try {
      broker.ensure_telemetry_client(config.mqtt_username, config.mqtt_password);
      log::info("MQTT broker credentials ready", {{"telemetry_user", config.mqtt_username}});
      break;
    } catch (const std::exception& e) {
      if (!warned)
        log::warn("MQTT broker not ready for provisioning; retrying",
                  {{"error", std::string_view(e.what())}});
      warned = true;
      pause(delay);
      delay = std::min(std::chrono::milliseconds(30'000), delay * 2);
    }
  }
  while (!stop.stop_requested()) {
    try {
      broker.reconcile(
          [&devices](std::string_view key) { return devices.repository().find_by_api_key(key); });
    } catch (const std::exception& e) {
      log::warn("MQTT credential reconciliation failed; next try in ten minutes",
                {{"error", std::string_view(e.what())}});
    }
    pause(std::chrono::minutes(10));
  }
}

}  // namespace

int serve(const core::Config& config, const std::vector<std::string>& roles) {
  const sigset_t signals = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const auto started_at = std::chrono::system_clock::now();
  log::info("starting factoryops", {{"version", core::version()},
                                    {"roles", join_roles(roles)},
                                    {"env", config.production() ? "production" : "development"}});
  for (const auto& [key, value] : core::describe(config))
    log::debug("configuration", {{"key", key}, {"value", value}});

  std::unique_ptr<db::Database> database;
  try {
    database = open_database(config);
    prepare_schema(*database);
  } catch (const std::exception& e) {
    log::error("metadata store unusable",
               {{"database", database ? database->redacted_url() : std::string("(not opened)")},
                {"error", std::string_view(e.what())}});
    std::cerr << "factoryops: metadata store: " << e.what() << "\n";
    return kExitFailure;
  }
  log::info("metadata store ready",
            {{"backend", database->backend_name()}, {"url", database->redacted_url()}});

  core::BlockingPool pool(static_cast<std::size_t>(config.worker_threads),
                          static_cast<std::size_t>(config.worker_queue_capacity));
  db::Database* db_ptr = database.get();

  // The telemetry store chosen by FACTORYOPS_TSDB_URL; the embedded engine keeps its files
  // under <data_dir>/tsdb, the InfluxDB engine spools to Redis or <data_dir>/spool.
  std::unique_ptr<tsdb::TelemetryStore> store;
  try {
    if (config.tsdb_url.rfind("influxdb", 0) == 0) {
      tsdb::InfluxOptions influx;
      influx.url = config.tsdb_url;
      influx.token = config.influxdb_token;
      influx.redis_url = config.redis_url;
      influx.spool_directory = config.data_dir / "spool";
      influx.spool_max_bytes = config.telemetry_spool_max_bytes;
      store = tsdb::open_influx_store(influx);
    } else {
      tsdb::EmbeddedOptions tsdb_options;
      tsdb_options.directory = config.data_dir / "tsdb";
      tsdb_options.timezone_of = [db_ptr](const core::FactoryId& id) {
        auto factory = db::FactoryRepository(*db_ptr).find(id);
        return factory ? factory->timezone : std::string("UTC");
      };
      store = tsdb::open_embedded_store(tsdb_options);
    }
  } catch (const std::exception& e) {
    log::error("telemetry store unusable", {{"error", std::string_view(e.what())}});
    std::cerr << "factoryops: telemetry store: " << e.what() << "\n";
    return kExitFailure;
  }
  log::info("telemetry store ready", {{"engine", store->engine()}});
  tsdb::TelemetryStore* store_ptr = store.get();

  const bool telemetry_role = std::find(roles.begin(), roles.end(), "telemetry") != roles.end();
  std::unique_ptr<mqtt::TelemetryIngestor> ingestor;  // made below, once its parts exist
  std::vector<api::DependencyProbe> probes = {
      {std::string(database->backend_name()), true, [db_ptr] { return db_ptr->ping(); }},
      // InfluxDB down is "degraded", not down: batches go to the spool and
      // are replayed, so ingestion goes on (HLD §11).
      {store->engine() == "influxdb" ? "influxdb" : "tsdb", store->engine() != "influxdb", [store_ptr] {
         auto status = store_ptr->status();
         return status.reachable && status.spooled_batches == 0;
       }}};
  // The broker away is "degraded": the broker and devices keep what is not yet taken, and HTTP
  // ingestion goes on.
  if (telemetry_role)
    probes.push_back({"mqtt", false, [&ingestor] { return ingestor && ingestor->connected(); }});
  api::HealthService health(join_roles(roles), std::move(probes));

  // Identity: signing keys, the authenticator every secured route uses, sessions, users and
  // the audit trail. Built after the database, which they all read.
  std::unique_ptr<auth::KeyRingSource> keys;
  try {
    keys = std::make_unique<auth::KeyRingSource>(auth::key_ring_options(config));
  } catch (const std::exception& e) {
    log::error("cannot load the JWT signing keys", {{"error", std::string_view(e.what())}});
    std::cerr << "factoryops: " << e.what() << "\n";
    return kExitUsage;
  }
  auth::JwtAuthenticator authenticator(*keys, *database);
  users::UserService user_service(*database);
  auth::SessionOptions session_options;
  session_options.access_token_ttl_seconds = config.access_token_ttl_seconds;
  session_options.refresh_token_ttl_seconds = config.refresh_token_ttl_seconds;
  auth::SessionService sessions(*database, *keys, user_service, session_options);
  audit::AuditService audit_service(*database);
  devices::DeviceService device_service(*database);
  std::function<void()> reload = [&keys] { keys->reload(); };

  // The MQTT broker: device keys are provisioned on it (Mosquitto's dynamic security) unless
  // it asks FACTORYOPS itself (EMQX, provisioning off); the telemetry role subscribes to it.
  mqtt::BrokerAddress broker;
  std::unique_ptr<mqtt::DynamicSecurity> broker_credentials;
  try {
    broker = mqtt::parse_broker_url(config.mqtt_url, "FACTORYOPS_MQTT_URL");
    if (config.production() && config.mqtt_password.empty() && telemetry_role)
      throw core::Invalid("FACTORYOPS_MQTT_PASSWORD", "is required when FACTORYOPS_ENV=production");
    if (config.production() && config.mqtt_admin_password.empty() && config.mqtt_provisioning == "dynsec")
      throw core::Invalid("FACTORYOPS_MQTT_ADMIN_PASSWORD",
                          "is required when FACTORYOPS_ENV=production and MQTT provisioning is dynsec");
  } catch (const core::Invalid& e) {
    log::error("invalid MQTT configuration", {{"error", std::string_view(e.what())}});
    std::cerr << "factoryops: " << e.what() << "\n";
    return kExitUsage;
  }
  if (config.mqtt_provisioning == "dynsec") {
    broker_credentials = std::make_unique<mqtt::DynamicSecurity>(
        mqtt::DynamicSecurityOptions{broker, config.mqtt_admin_username, config.mqtt_admin_password});
    device_service.set_broker(broker_credentials.get());
  }

  // The job queue chosen by FACTORYOPS_REDIS_URL (docs/jobs.md). Worker roles consume it; the
  // API shows a factory's dead letters to its super admin.
  std::unique_ptr<queue::JobQueue> job_queue;
  try {
    job_queue = queue::make_job_queue(config, *database);
  } catch (const core::Invalid& e) {
    log::error("invalid job queue configuration", {{"error", std::string_view(e.what())}});
    std::cerr << "factoryops: " << e.what() << "\n";
    return kExitUsage;
  }
  // Stored readings go to the rule engine as jobs, a few times a second per factory; the
  // dispatcher outlives the pipeline, whose last batches it takes at shutdown.
  rules::RuleDispatcher rule_dispatch(*job_queue, database.get());

  // Ingestion: discovery and the rejection log write the metadata DB from their own threads, so
  // a request never waits on it; device keys are cached and forgotten when a device changes.
  ingest::ParameterDiscovery discovery(*database);
  ingest::RejectionLog rejection_log(*database);
  ingest::IngestPipeline pipeline(*store, &discovery, &rejection_log);
  pipeline.add_listener([&rule_dispatch](const tsdb::DeviceBatch& batch) { rule_dispatch.add(batch); });
  ingest::DeviceKeyCache device_keys(
      [&device_service](std::string_view key) { return device_service.repository().find_by_api_key(key); });
  ingest::DeviceDirectory device_directory(
      [&device_service](const core::FactoryId& factory, const core::DeviceId& device) -> std::optional<bool> {
        auto found = device_service.repository().find(factory, device);
        if (!found) return std::nullopt;
        return found->is_enabled;
      });
  device_service.on_change([&device_keys, &discovery, &device_directory](const core::FactoryId& factory,
                                                                         const core::DeviceId& device) {
    device_keys.invalidate(factory, device);
    discovery.forget(factory, device);
    device_directory.invalidate(factory, device);
  });
  if (telemetry_role) {
    mqtt::TelemetryIngestorOptions ingest_options;
    ingest_options.broker = broker;
    ingest_options.username = config.mqtt_username;
    ingest_options.password = config.mqtt_password;
    ingest_options.client_id = mqtt::default_ingest_client_id(config.data_dir);
    ingest_options.share_group = config.mqtt_share_group;
    ingest_options.log_directory = config.data_dir / "mqtt-ingest";
    ingest_options.group_commit = std::chrono::milliseconds(config.mqtt_group_commit_ms);
    ingestor =
        std::make_unique<mqtt::TelemetryIngestor>(ingest_options, pipeline, device_directory, &discovery);
  }

  tsdb::TelemetryQueryService telemetry_queries(
      *database, *store, tsdb::RetentionPolicy{config.retention_raw_days, config.retention_rollup_days});
  // Every serve applies retention to the store it writes (the embedded engine's files are the
  // process's own). Deleting expired data is idempotent, so replicas doing it at once do no harm.
  tsdb::RetentionScheduler retention(*store, [&telemetry_queries] { return telemetry_queries.policies(); });

  queue::DeadLetterService dead_letters(*job_queue, *database);

  // Rules and their alerts: deleting or disabling a rule resolves its unresolved alerts.
  alerts::AlertService alert_service(*database);
  rules::RuleService rule_service(*database, *store, &alert_service);
  // A rule created or changed here is taken into account by the next reading.
  rule_service.set_listener([&rule_dispatch](const core::FactoryId&, const rules::Rule&, bool) {
    rule_dispatch.reload_interest();
  });

  // Notification channels from configuration (docs/notifications.md); a half-configured one is
  // refused in production and off, with a warning, in development.
  notify::Channels channels;
  try {
    channels = notify::make_channels(config);
  } catch (const core::ConfigError& e) {
    log::error("invalid notification configuration", {{"error", std::string_view(e.what())}});
    std::cerr << "factoryops: " << e.what() << "\n";
    return kExitUsage;
  }
  // Invitation emails: queued by the invite route, sent by the notifications role.
  users::InvitationMailer invitation_mailer(*database, *job_queue, channels);
  // The worker roles (docs/jobs.md, docs/rules.md): rule evaluation runs on one thread, as its
  // evaluators are single-threaded; notifications on two, as sending waits on the network.
  const bool rule_engine_role = std::find(roles.begin(), roles.end(), "rule-engine") != roles.end();
  const bool notifications_role = std::find(roles.begin(), roles.end(), "notifications") != roles.end();
  std::unique_ptr<rules::RuleEngine> rule_engine;
  std::unique_ptr<alerts::AlertNotifier> notifier;
  std::vector<std::unique_ptr<queue::Worker>> workers;
  if (rule_engine_role) {
    rule_engine = std::make_unique<rules::RuleEngine>(*database, alert_service, *job_queue);
    auto worker = std::make_unique<queue::Worker>(
        *job_queue, queue::WorkerOptions{.queues = {std::string(queue::kRuleEngineQueue)},
                                         .threads = 1,
                                         .idle_wait = std::chrono::milliseconds(200),
                                         .name = {}});
    worker->on(std::string(rules::kEvaluateTask),
               [&rule_engine](const queue::Job& job) { rule_engine->evaluate_job(job); });
    worker->on(std::string(rules::kTickTask),
               [&rule_engine](const queue::Job& job) { rule_engine->tick_job(job, db::now_ms()); });
    workers.push_back(std::move(worker));
  }
  if (notifications_role) {
    notifier = std::make_unique<alerts::AlertNotifier>(*database, alert_service, channels);
    auto worker = std::make_unique<queue::Worker>(
        *job_queue, queue::WorkerOptions{.queues = {std::string(queue::kNotificationsQueue)},
                                         .threads = 2,
                                         .idle_wait = std::chrono::milliseconds(200),
                                         .name = {}});
    worker->on(std::string(rules::kNotifyTask),
               [&notifier](const queue::Job& job) { notifier->handle(job); });
    worker->on(std::string(users::kInvitationTask),
               [&invitation_mailer](const queue::Job& job) { invitation_mailer.handle(job); });
    workers.push_back(std::move(worker));
  }

  http::Router router;
  api::register_system_routes(router, {.health = &health,
                                       .metrics = nullptr,
                                       .info = {std::string(core::version()), roles,
                                                std::string(database->backend_name()), started_at}});
  // A process without the api role answers only /health, /metrics and /api/v1/system/info.
  if (std::find(roles.begin(), roles.end(), "api") != roles.end()) {
    api::register_auth_routes(router, authenticator, sessions);
    api::register_user_routes(router, authenticator, user_service, invitation_mailer);
    api::register_audit_routes(router, authenticator, audit_service);
    api::register_device_routes(router, authenticator, device_service);
    api::register_ingest_routes(router, authenticator,
                                {.pipeline = &pipeline,
                                 .keys = &device_keys,
                                 .rejections = &rejection_log,
                                 .devices = &device_service});
    api::register_telemetry_routes(router, authenticator, telemetry_queries);
    api::register_job_routes(router, authenticator, dead_letters);
    api::register_alert_routes(router, authenticator, alert_service);
    api::register_rule_routes(router, authenticator, rule_service);
    // EMQX asks /internal/mqtt/authn and /authz (docs/mqtt-emqx.md); absent unless the secret is set.
    api::register_mqtt_auth_routes(router, {.keys = &device_keys,
                                            .secret = config.mqtt_auth_secret,
                                            .telemetry_username = config.mqtt_username,
                                            .telemetry_password = config.mqtt_password});
    // Live feed: stored batches and machine status fan out to WebSocket clients. Shared with the
    // listeners: the pipeline and the MQTT ingestor, built earlier, are destroyed later.
    auto live_hub = std::make_shared<live::LiveHub>();
    pipeline.add_listener([live_hub](const tsdb::DeviceBatch& batch) { live_hub->publish(batch); });
    if (ingestor)
      ingestor->on_status(
          [live_hub](const core::FactoryId& factory, const core::DeviceId& device, bool online,
                     std::int64_t at_ms) { live_hub->publish_status(factory, device, online, at_ms); });
    // Alert events of this process go to every live client of the alert's factory.
    alert_service.set_listener(
        [live_hub](const core::FactoryId& factory, std::string_view event, const alerts::Alert& alert) {
          live_hub->publish_to_factory(
              factory, boost::json::serialize(boost::json::object{
                           {"type", "alert"}, {"event", event}, {"alert", api::alert_json(alert)}}));
        });
    api::register_live_routes(router, authenticator,
                              {.hub = live_hub, .pool = &pool, .devices = &device_service});
  }

  http::ServerOptions options;
  options.address = config.http_address;
  options.port = static_cast<std::uint16_t>(config.http_port);
  options.io_threads = config.http_io_threads > 0 ? static_cast<std::size_t>(config.http_io_threads)
                                                  : std::max(1u, std::thread::hardware_concurrency());
  options.body_limit_bytes = config.http_body_limit_bytes;
  options.read_timeout = std::chrono::seconds(config.http_read_timeout_seconds);
  options.idle_timeout = std::chrono::seconds(config.http_idle_timeout_seconds);
  options.static_dir = config.static_dir.string();
  http::Server server(options, router, pool);
  try {
    server.start();
  } catch (const std::exception& e) {
    log::error("cannot start the HTTP server", {{"error", std::string_view(e.what())}});
    std::cerr << "factoryops: " << e.what() << "\n";
    return kExitFailure;
  }
  retention.start();
  for (auto& worker : workers) worker->start();
  // The scheduler role's beat: no-data rules are evaluated by whichever rule engine takes the tick.
  std::unique_ptr<rules::RuleScheduler> rule_scheduler;
  if (std::find(roles.begin(), roles.end(), "scheduler") != roles.end()) {
    rule_scheduler = std::make_unique<rules::RuleScheduler>(*database, *job_queue);
    rule_scheduler->start();
  }
  // The rule engine's upkeep: alerts resolved by hand are forgotten, machine states saved.
  std::mutex rule_clock_mutex;
  std::condition_variable_any rule_clock_wake;
  std::jthread rule_clock;
  if (rule_engine) {
    rule_clock = std::jthread([&rule_engine, &rule_clock_mutex, &rule_clock_wake](std::stop_token stop) {
      std::unique_lock lock(rule_clock_mutex);
      while (true) {
        // With a stop token the wait answers the predicate (false) when stop is requested, so
        // the token itself says when to end.
        rule_clock_wake.wait_for(lock, stop, std::chrono::seconds(10), [] { return false; });
        if (stop.stop_requested()) return;
        try {
          rule_engine->housekeep();
        } catch (const std::exception& e) {
          log::warn("rule engine upkeep failed", {{"error", std::string_view(e.what())}});
        }
      }
    });
  }
  // Broker upkeep in the background, so an unreachable broker never holds up start-up: the
  // telemetry credential, then a reconciliation of device keys now and every ten minutes.
  std::jthread broker_upkeep;
  if (broker_credentials) {
    broker_upkeep = std::jthread([&broker_credentials, &device_service, &config](std::stop_token stop) {
      maintain_broker(stop, *broker_credentials, device_service, config);
    });
  }
  if (ingestor) {
    try {
      ingestor->start();
    } catch (const std::exception& e) {
      log::error("cannot start MQTT ingestion", {{"error", std::string_view(e.what())}});
      std::cerr << "factoryops: MQTT ingestion: " << e.what() << "\n";
      server.stop(std::chrono::seconds(1));
      return kExitFailure;
    }
  }

  int sig = wait_for_shutdown_signal(signals, reload);
  log::info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                              {"grace_seconds", config.shutdown_grace_seconds}});
  server.stop(std::chrono::seconds(config.shutdown_grace_seconds));
  // Stop taking MQTT messages; what was taken is stored (or stays in the ingest log).
  if (ingestor) ingestor->stop();
  if (broker_upkeep.joinable()) {
    broker_upkeep.request_stop();
    broker_upkeep.join();
  }
  retention.stop();
  if (rule_scheduler) rule_scheduler->stop();
  if (rule_clock.joinable()) {
    rule_clock.request_stop();
    rule_clock.join();
  }
  // What was stored goes to the queue before the workers stop; jobs not yet run stay queued.
  rule_dispatch.stop();
  for (auto& worker : workers) worker->stop();
  if (rule_engine) rule_engine->save_states();
  pool.shutdown();
  // Requests are finished: hand what is queued to the metadata DB, then settle the store.
  if (!discovery.flush())
    log::warn("parameter discoveries left unwritten", {{"pending", discovery.pending()}});
  try {
    rejection_log.flush();
  } catch (const std::exception& e) {
    log::warn("ingest rejections left unwritten", {{"error", std::string_view(e.what())}});
  }
  try {
    store->flush();
  } catch (const std::exception& e) {
    log::error("telemetry store flush failed", {{"error", std::string_view(e.what())}});
  }
  log::info("stopped");
  return kExitOk;
}

int migrate(const core::Config& config, bool status_only) {
  auto database = open_database(config);
  if (status_only) {
    for (const auto& m : db::migration_status(*database)) {
      std::string when;
      if (m.applied_at_ms)
        when = api::format_rfc3339(
            std::chrono::system_clock::time_point(std::chrono::milliseconds(*m.applied_at_ms)));
      std::printf("%-32s %-13s %s\n", m.name.c_str(), std::string(db::migration_state_name(m.state)).c_str(),
                  when.c_str());
    }
    return kExitOk;
  }
  auto applied = db::migrate(*database);
  for (const auto& name : applied) std::printf("applied %s\n", name.c_str());
  std::printf("schema is up to date (%s, %zu migrations)\n", std::string(database->backend_name()).c_str(),
              db::embedded_migrations(database->dialect()).size());
  return kExitOk;
}

int create_factory(const core::Config& config, const std::string& id, const std::string& name,
                   const std::string& timezone) {
  try {
    core::FactoryId factory_id(id);
    if (!timezone_exists(timezone)) {
      throw core::Invalid("timezone",
                          "'" + timezone +
                              "' is not an IANA time zone known to this system (e.g. Asia/Kolkata, "
                              "UTC); the zone database comes from the tzdata package");
    }
    auto database = open_prepared_database(config);
    auto factory = db::FactoryRepository(*database).create(db::Factory{factory_id, name, timezone, 0, 0});
    std::printf("created factory %s (%s, %s)\n", factory.id.str().c_str(), factory.name.c_str(),
                factory.timezone.c_str());
    return kExitOk;
  } catch (const core::Invalid&) {
    return report_admin_error(std::current_exception());
  } catch (const core::Conflict&) {
    return report_admin_error(std::current_exception());
  }
}

int create_user(const core::Config& config, const std::string& factory_text, const std::string& email,
                const std::string& role_text, const std::string& name) {
  try {
    core::FactoryId factory_id(factory_text);
    auto role = auth::parse_role(role_text);
    if (!role) throw core::Invalid("role", "must be super_admin or admin");
    std::string password;
    bool generated = false;
    if (isatty(STDIN_FILENO) == 0) {
      std::getline(std::cin, password);
      if (!password.empty() && password.back() == '\r') password.pop_back();
    }
    if (password.empty()) {
      generated = true;
      do {
        password = auth::generate_password();
      } while (auth::password_problem(password, email, factory_id.str()));
    }
    auto database = open_prepared_database(config);
    users::UserService service(*database);
    users::User user;
    try {
      user = service.create(factory_id, email, name, *role, password);
    } catch (const core::NotFound& e) {
      throw core::Invalid("factory", e.what());
    }
    std::printf("created user %lld %s (%s) in factory %s\n", static_cast<long long>(user.id),
                user.email.c_str(), std::string(auth::role_name(user.role)).c_str(),
                user.factory_id.str().c_str());
    // Printed once, on stdout only, never logged.
    if (generated) std::printf("generated password (shown once): %s\n", password.c_str());
    return kExitOk;
  } catch (const core::Invalid&) {
    return report_admin_error(std::current_exception());
  } catch (const core::Conflict&) {
    return report_admin_error(std::current_exception());
  }
}

int rotate_jwt_key(const core::Config& config) {
  auto file = auth::key_file_path(config);
  std::string kid = auth::rotate_key_file(file);
  std::printf("added key %s to %s; it signs new tokens once servers reload (SIGHUP, or within seconds)\n",
              kid.c_str(), file.c_str());
  return kExitOk;
}

int show_config(const core::Config& config) {
  for (const auto& [key, value] : core::describe(config))
    std::printf("%-26s %s\n", key.c_str(), value.c_str());
  return kExitOk;
}

}  // namespace factoryops::app
