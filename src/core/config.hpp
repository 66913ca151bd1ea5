// Process configuration: defaults, then an optional TOML file, then FACTORYOPS_* environment
// variables (12-factor; the environment wins). Every secret may instead be read from the file
// named by <NAME>_FILE. Loading validates everything and throws ConfigError naming the key;
// a Config is an immutable value once loaded.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace factoryops::core {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& why)
      : std::runtime_error(key + ": " + why), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

enum class Environment { development, production };

struct Config {
  Environment env = Environment::development;
  std::string log_level = "info";

  std::string http_address = "0.0.0.0";
  int http_port = 8000;
  int http_io_threads = 0;  // 0 = one per core
  std::size_t http_body_limit_bytes = 1024 * 1024;
  int http_read_timeout_seconds = 30;
  int http_idle_timeout_seconds = 60;
  int shutdown_grace_seconds = 20;
  int worker_threads = 8;
  int worker_queue_capacity = 1024;

  std::filesystem::path data_dir = "./var";
  std::filesystem::path static_dir = "frontend/dist";
  std::string database_url;  // default: sqlite:///<data_dir>/factoryops.db
  std::string tsdb_url = "embedded:";
  std::string redis_url;  // empty: jobs use the SQL queue; the InfluxDB spool uses the disk
  // A job claimed but neither acknowledged nor failed within this time runs again elsewhere.
  int job_visibility_timeout_seconds = 300;
  // Sent as "Authorization: Token …" to InfluxDB 2.x/3.x; 1.x takes user:password in the URL.
  std::string influxdb_token;
  // Upper bound of the disk spool that holds InfluxDB batches while InfluxDB and Redis are down.
  std::int64_t telemetry_spool_max_bytes = 1LL << 30;
  // Default retention (days) of raw points and of rollups; a factory may override within
  // [raw 183..366] and [rollups 730..1826] (HLD §10).
  int retention_raw_days = 183;
  int retention_rollup_days = 730;
  std::string mqtt_url = "mqtt://127.0.0.1:1883";
  // The telemetry role's broker credential (it subscribes to every factory's telemetry).
  std::string mqtt_username = "factoryops-telemetry";
  std::string mqtt_password;  // default: kDevelopmentMqttPassword, development only
  // How device credentials reach the broker: "dynsec" (Mosquitto's dynamic-security plugin,
  // driven with the admin credential below) or "off" (EMQX asks /internal/mqtt/* instead).
  std::string mqtt_provisioning = "dynsec";
  std::string mqtt_admin_username = "factoryops-admin";
  std::string mqtt_admin_password;  // default: kDevelopmentMqttPassword, development only
  // Shared secret EMQX presents to /internal/mqtt/authn and /authz; empty turns them off.
  std::string mqtt_auth_secret;
  // The telemetry role's shared-subscription group; empty subscribes without one (a single
  // replica; on Mosquitto the broker then queues for it across broker restarts, docs/mqtt.md).
  std::string mqtt_share_group = "factoryops-ingest";
  // The telemetry role fsyncs its write-ahead log at least this often: the most a power cut
  // can take from readings already acknowledged to the broker.
  int mqtt_group_commit_ms = 200;
  std::string jwt_secret;
  // Extra signing keys, one "kid secret" per line (the last signs). Empty: <data_dir>/jwt-keys.
  std::filesystem::path jwt_keys_file;
  int access_token_ttl_seconds = 15 * 60;
  int refresh_token_ttl_seconds = 14 * 24 * 3600;

  // Notification channels (docs/notifications.md). Email is off while smtp_url is empty;
  // WhatsApp is off while the twilio_* credentials are all empty.
  std::string smtp_url;  // smtp://host:587 (STARTTLS per smtp_starttls) or smtps://host:465
  std::string smtp_username;
  std::string smtp_password;
  std::string smtp_from;                   // "FactoryOps <alerts@example.com>" or a bare address
  std::string smtp_starttls = "required";  // required | opportunistic | off (smtp:// only)
  std::filesystem::path smtp_ca_file;      // empty: the system's CA store
  // Skips certificate verification, for a self-signed development server; refused in production.
  bool smtp_tls_insecure = false;
  int smtp_timeout_seconds = 30;
  std::string twilio_account_sid;
  std::string twilio_auth_token;
  std::string twilio_whatsapp_from;  // the sender's number in E.164, e.g. +14155238886
  std::string twilio_api_url = "https://api.twilio.com";
  int twilio_timeout_seconds = 15;
  // Where people open the web app: links in notifications start with it. Development
  // defaults to http://localhost:<http_port>; production requires it once a channel is on.
  std::string public_url;

  bool production() const { return env == Environment::production; }
};

// The secret used when none is configured; accepted only in development.
inline constexpr const char* kDevelopmentJwtSecret = "factoryops-development-secret-do-not-use-in-production";

// The broker passwords used when none is configured; accepted only in development.
inline constexpr const char* kDevelopmentMqttPassword = "factoryops-development-mqtt";

using EnvironmentMap = std::map<std::string, std::string>;

// The FACTORYOPS_* variables of this process.
EnvironmentMap process_environment();

// Loads and validates. `config_file` is the TOML file given on the command line, if any;
// FACTORYOPS_CONFIG in `env` names one otherwise. Throws ConfigError.
Config load_config(const EnvironmentMap& env, const std::optional<std::filesystem::path>& config_file);

// Whether a notification channel has everything it needs. `problem` (with the `key` to fix)
// says what is missing when only part of the channel is configured: production refuses that
// at load time, development runs with the channel off.
struct ChannelSetup {
  bool enabled = false;
  std::string key;
  std::string problem;
};
ChannelSetup email_channel_setup(const Config& config);
ChannelSetup whatsapp_channel_setup(const Config& config);

// Key/value lines describing the effective configuration with every secret hidden.
std::vector<std::pair<std::string, std::string>> describe(const Config& config);

}  // namespace factoryops::core
