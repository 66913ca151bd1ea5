#include "app/commands.hpp"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "api/health.hpp"
#include "api/system_routes.hpp"
#include "app/cli.hpp"
#include "app/roles.hpp"
#include "core/logging.hpp"
#include "core/thread_pool.hpp"
#include "core/version.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

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

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// Blocks until SIGTERM or SIGINT. The signals are blocked in every thread (the mask is set
// before any thread starts), so only this sigwait sees them.
int wait_for_shutdown_signal(const sigset_t& set) {
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log::info("SIGHUP received; nothing to reload in this version");
      continue;
    }
    return sig;
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
  api::HealthService health(join_roles(roles), {{std::string(database->backend_name()), true,
                                                 [db_ptr] { return db_ptr->ping(); }}});

  http::Router router;
  api::register_system_routes(router, {.health = &health,
                                       .metrics = nullptr,
                                       .info = {std::string(core::version()), roles,
                                                std::string(database->backend_name()), started_at}});

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

  int sig = wait_for_shutdown_signal(signals);
  log::info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                              {"grace_seconds", config.shutdown_grace_seconds}});
  server.stop(std::chrono::seconds(config.shutdown_grace_seconds));
  pool.shutdown();
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

int show_config(const core::Config& config) {
  for (const auto& [key, value] : core::describe(config))
    std::printf("%-26s %s\n", key.c_str(), value.c_str());
  return kExitOk;
}

}  // namespace factoryops::app
