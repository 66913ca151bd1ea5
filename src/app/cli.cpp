#include "app/cli.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

#include "app/commands.hpp"
#include "app/roles.hpp"
#include "core/config.hpp"
#include "core/logging.hpp"
#include "core/version.hpp"
#include "simulator/simulator.hpp"

namespace factoryops::app {
namespace {

core::Config load(const std::string& config_file) {
  std::optional<std::filesystem::path> file;
  if (!config_file.empty()) file = config_file;
  return core::load_config(core::process_environment(), file);
}

void init_logging(const core::Config& config, const std::string& role) {
  log::Level level = log::Level::info;
  log::parse_level(config.log_level, level);
  log::init(role, level);
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App cli{"FactoryOps: industrial energy intelligence. One binary, many roles.", "factoryops"};
  cli.require_subcommand(1);
  std::string config_file;
  cli.add_option("-c,--config", config_file, "TOML configuration file (FACTORYOPS_* variables override it)");

  auto* serve_cmd = cli.add_subcommand("serve", "Run FactoryOps roles (the web app and API, workers)");
  std::string roles_text = "all";
  serve_cmd
      ->add_option("--roles", roles_text,
                   "Comma-separated roles to run, or 'all' (api, telemetry, rule-engine, notifications, "
                   "analytics, reporting, scheduler)")
      ->capture_default_str();

  auto* migrate_cmd = cli.add_subcommand("migrate", "Apply pending database schema migrations");
  bool status_only = false;
  migrate_cmd->add_flag("--status", status_only,
                        "List migrations and whether each is applied; change nothing");

  auto* admin_cmd = cli.add_subcommand("admin", "Administration tasks");
  admin_cmd->require_subcommand(1);
  admin_cmd->add_subcommand("show-config", "Print the effective configuration (secrets hidden)");

  auto* create_factory_cmd = admin_cmd->add_subcommand("create-factory", "Create a factory (tenant)");
  std::string factory_id, factory_name, timezone;
  create_factory_cmd->add_option("--id", factory_id, "Factory id: [a-z0-9][a-z0-9_-]{0,63}")->required();
  create_factory_cmd->add_option("--name", factory_name, "Display name")->required();
  create_factory_cmd->add_option("--timezone", timezone, "IANA time zone, e.g. Asia/Kolkata")->required();

  auto* create_user_cmd = admin_cmd->add_subcommand(
      "create-user", "Create a user; the password is read from stdin, or generated and printed once");
  std::string user_factory, user_email, user_role, user_name;
  create_user_cmd->add_option("--factory", user_factory, "Factory id")->required();
  create_user_cmd->add_option("--email", user_email, "Email address (the sign-in name)")->required();
  create_user_cmd->add_option("--role", user_role, "super_admin or admin")->required();
  create_user_cmd->add_option("--name", user_name, "Display name");

  admin_cmd->add_subcommand("rotate-jwt-key",
                            "Append a new JWT signing key to the key file (old keys keep verifying)");

  auto* simulate_cmd = cli.add_subcommand(
      "simulate",
      "Simulate machines sending telemetry over HTTP or MQTT (provisions sim-001… in the factory; also the "
      "load generator)");
  simulator::SimulatorOptions sim;
  simulate_cmd->add_option("--factory", sim.factory, "Factory id")->required();
  simulate_cmd->add_option("--devices", sim.devices, "Number of machines (1..10000)")->capture_default_str();
  simulate_cmd->add_option("--rate", sim.rate_hz, "Readings per second per machine; 0 = as fast as possible")
      ->capture_default_str();
  simulate_cmd
      ->add_option("--transport", sim.transport,
                   "http (POST /api/v1/ingest) or mqtt (one connection per machine, its key as username)")
      ->capture_default_str();
  sim.url.clear();
  simulate_cmd->add_option("--url", sim.url,
                           "http: base URL of factoryops (default http://127.0.0.1:<configured port>); mqtt: "
                           "the broker, mqtt://host:port (default FACTORYOPS_MQTT_URL)");
  simulate_cmd->add_option("--duration", sim.duration_seconds, "Seconds to run; 0 = until interrupted")
      ->capture_default_str();
  simulate_cmd->add_option("--batch", sim.batch, "Readings per request or message (1..5000)")
      ->capture_default_str();
  simulate_cmd->add_option("--connections", sim.connections,
                           "http: parallel connections (1..256, default 1)");
  simulate_cmd->add_option("--seed", sim.seed, "Seed of the machine models")->capture_default_str();
  simulate_cmd->add_flag("--sequence", sim.sequence,
                         "Add a metric 'seq' counting each machine's readings from 0 (to check for loss)");
  simulate_cmd->add_option("--qos", sim.qos, "mqtt: QoS of the readings, 0 or 1")->capture_default_str();
  simulate_cmd->add_option(
      "--inflight", sim.inflight,
      "mqtt: messages per machine awaiting the broker's acknowledgement (1..1000, default " +
          std::to_string(simulator::kDefaultInflight) + ")");
  simulate_cmd->add_option(
      "--threads", sim.threads,
      "mqtt: network threads driving the connections (1..64, default one per core, at most 4)");

  cli.add_subcommand("version", "Print the version");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    cli.exit(e);
    return kExitUsage;
  }

  if (cli.got_subcommand("version")) {
    std::cout << "factoryops " << core::version() << "\n";
    return kExitOk;
  }

  core::Config config;
  std::vector<std::string> roles;
  try {
    config = load(config_file);
    if (serve_cmd->parsed()) roles = parse_roles(roles_text);
  } catch (const core::ConfigError& e) {
    std::cerr << "factoryops: configuration error: " << e.what() << "\n";
    return kExitUsage;
  }

  try {
    if (serve_cmd->parsed()) {
      init_logging(config, join_roles(roles));
      return serve(config, roles);
    }
    init_logging(config, "cli");
    if (migrate_cmd->parsed()) return migrate(config, status_only);
    if (simulate_cmd->parsed()) return simulator::simulate_command(config, sim);
    if (admin_cmd->got_subcommand("show-config")) return show_config(config);
    if (admin_cmd->got_subcommand("create-factory"))
      return create_factory(config, factory_id, factory_name, timezone);
    if (admin_cmd->got_subcommand("create-user"))
      return create_user(config, user_factory, user_email, user_role, user_name);
    if (admin_cmd->got_subcommand("rotate-jwt-key")) return rotate_jwt_key(config);
  } catch (const core::ConfigError& e) {
    std::cerr << "factoryops: configuration error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    log::error("command failed", {{"error", std::string_view(e.what())}});
    std::cerr << "factoryops: " << e.what() << "\n";
    return kExitFailure;
  }
  return kExitUsage;
}

}  // namespace factoryops::app
