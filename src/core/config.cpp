#include "core/config.hpp"

#include "core/logging.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>

extern char** environ;

namespace factoryops::core {
namespace {

constexpr std::string_view kEnvPrefix = "FACTORYOPS_";
// Variables read by the project's tools (tests, end-to-end tests, `make up`), not by the server.
constexpr std::string_view kToolPrefixes[] = {"FACTORYOPS_TEST_", "FACTORYOPS_E2E_", "FACTORYOPS_UP_"};

struct Source {
  std::string key;  // the name the user wrote: FACTORYOPS_HTTP_PORT or http_port (in file.toml)
  std::string value;
};

using Setter = std::function<void(Config&, const Source&)>;

struct KeySpec {
  std::string_view name;  // TOML key; the variable is FACTORYOPS_<NAME>
  bool secret;            // may come from <NAME>_FILE, never printed
  Setter set;
};

long long parse_integer(const Source& s, long long min, long long max) {
  long long v = 0;
  const char* begin = s.value.data();
  const char* end = begin + s.value.size();
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || v < min || v > max) {
    throw ConfigError(s.key, "expected an integer from " + std::to_string(min) + " to " +
                                 std::to_string(max) + ", got '" + s.value + "'");
  }
  return v;
}

Setter int_setter(int Config::*field, int min, int max) {
  return [=](Config& c, const Source& s) { c.*field = static_cast<int>(parse_integer(s, min, max)); };
}

Setter string_setter(std::string Config::*field) {
  return [=](Config& c, const Source& s) { c.*field = s.value; };
}

Setter path_setter(std::filesystem::path Config::*field) {
  return [=](Config& c, const Source& s) {
    if (s.value.empty()) throw ConfigError(s.key, "must not be empty");
    c.*field = s.value;
  };
}

Setter url_setter(std::string Config::*field, std::vector<std::string> schemes, bool allow_empty) {
  return [=](Config& c, const Source& s) {
    if (s.value.empty()) {
      if (allow_empty) {
        c.*field = "";
        return;
      }
      throw ConfigError(s.key, "must not be empty");
    }
    bool ok = std::any_of(schemes.begin(), schemes.end(),
                          [&](const std::string& scheme) { return s.value.rfind(scheme, 0) == 0; });
    if (!ok) {
      std::string list;
      for (const auto& scheme : schemes) list += (list.empty() ? "" : ", ") + scheme;
      // The value may hold a password: name the expected schemes, not the value.
      throw ConfigError(s.key, "unsupported URL scheme (expected one of: " + list + ")");
    }
    c.*field = s.value;
  };
}

const std::vector<KeySpec>& key_specs() {
  static const std::vector<KeySpec> kSpecs = {
      {"env", false,
       [](Config& c, const Source& s) {
         if (s.value == "development")
           c.env = Environment::development;
         else if (s.value == "production")
           c.env = Environment::production;
         else
           throw ConfigError(s.key, "expected 'development' or 'production', got '" + s.value + "'");
       }},
      {"log_level", false,
       [](Config& c, const Source& s) {
         static const std::vector<std::string> kLevels = {"debug", "info", "warning", "error"};
         if (std::find(kLevels.begin(), kLevels.end(), s.value) == kLevels.end()) {
           throw ConfigError(s.key, "expected debug, info, warning or error, got '" + s.value + "'");
         }
         c.log_level = s.value;
       }},
      {"http_address", false,
       [](Config& c, const Source& s) {
         if (s.value.empty()) throw ConfigError(s.key, "must not be empty");
         c.http_address = s.value;
       }},
      {"http_port", false, int_setter(&Config::http_port, 1, 65535)},
      {"http_io_threads", false, int_setter(&Config::http_io_threads, 0, 256)},
      {"http_body_limit_bytes", false,
       [](Config& c, const Source& s) {
         c.http_body_limit_bytes = static_cast<std::size_t>(parse_integer(s, 1024, 1LL << 30));
       }},
      {"http_read_timeout_seconds", false, int_setter(&Config::http_read_timeout_seconds, 1, 3600)},
      {"http_idle_timeout_seconds", false, int_setter(&Config::http_idle_timeout_seconds, 1, 3600)},
      {"shutdown_grace_seconds", false, int_setter(&Config::shutdown_grace_seconds, 0, 600)},
      {"worker_threads", false, int_setter(&Config::worker_threads, 1, 512)},
      {"worker_queue_capacity", false, int_setter(&Config::worker_queue_capacity, 1, 1000000)},
      {"data_dir", false, path_setter(&Config::data_dir)},
      {"static_dir", false, path_setter(&Config::static_dir)},
      {"database_url", true,
       url_setter(&Config::database_url, {"sqlite://", "mysql://", "mariadb://"}, false)},
      {"tsdb_url", true, url_setter(&Config::tsdb_url, {"embedded:", "influxdb://", "influxdbs://"}, false)},
      {"redis_url", true, url_setter(&Config::redis_url, {"redis://", "rediss://", "unix://"}, true)},
      {"job_visibility_timeout_seconds", false,
       int_setter(&Config::job_visibility_timeout_seconds, 1, 86400)},
      {"influxdb_token", true, string_setter(&Config::influxdb_token)},
      {"telemetry_spool_max_bytes", false,
       [](Config& c, const Source& s) {
         c.telemetry_spool_max_bytes = parse_integer(s, 1LL << 20, 1LL << 40);
       }},
      {"retention_raw_days", false, int_setter(&Config::retention_raw_days, 183, 366)},
      {"retention_rollup_days", false, int_setter(&Config::retention_rollup_days, 730, 1826)},
      {"mqtt_url", true, url_setter(&Config::mqtt_url, {"mqtt://", "mqtts://", "tcp://", "ssl://"}, false)},
      {"mqtt_username", false,
       [](Config& c, const Source& s) {
         if (s.value.empty()) throw ConfigError(s.key, "must not be empty");
         c.mqtt_username = s.value;
       }},
      {"mqtt_password", true, string_setter(&Config::mqtt_password)},
      {"mqtt_provisioning", false,
       [](Config& c, const Source& s) {
         if (s.value != "dynsec" && s.value != "off") {
           throw ConfigError(s.key, "must be 'dynsec' or 'off', not '" + s.value + "'");
         }
         c.mqtt_provisioning = s.value;
       }},
      {"mqtt_admin_username", false,
       [](Config& c, const Source& s) {
         if (s.value.empty()) throw ConfigError(s.key, "must not be empty");
         c.mqtt_admin_username = s.value;
       }},
      {"mqtt_admin_password", true, string_setter(&Config::mqtt_admin_password)},
      {"mqtt_auth_secret", true, string_setter(&Config::mqtt_auth_secret)},
      {"mqtt_share_group", false,
       [](Config& c, const Source& s) {
         if (s.value.size() > 64 ||
             s.value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                 std::string::npos)
           throw ConfigError(s.key, "must be empty or up to 64 letters, digits, '_' and '-'");
         c.mqtt_share_group = s.value;
       }},
      {"mqtt_group_commit_ms", false, int_setter(&Config::mqtt_group_commit_ms, 1, 1000)},
      {"jwt_secret", true, string_setter(&Config::jwt_secret)},
      {"jwt_keys_file", false, path_setter(&Config::jwt_keys_file)},
      {"access_token_ttl_seconds", false, int_setter(&Config::access_token_ttl_seconds, 60, 24 * 3600)},
      {"refresh_token_ttl_seconds", false,
       int_setter(&Config::refresh_token_ttl_seconds, 300, 90 * 24 * 3600)},
      {"smtp_url", true, url_setter(&Config::smtp_url, {"smtp://", "smtps://"}, true)},
      {"smtp_username", false, string_setter(&Config::smtp_username)},
      {"smtp_password", true, string_setter(&Config::smtp_password)},
      {"smtp_from", false,
       [](Config& c, const Source& s) {
         if (s.value.find_first_of("\r\n") != std::string::npos ||
             (!s.value.empty() && s.value.find('@') == std::string::npos))
           throw ConfigError(s.key, "expected an address such as 'FactoryOps <alerts@example.com>'");
         c.smtp_from = s.value;
       }},
      {"smtp_starttls", false,
       [](Config& c, const Source& s) {
         if (s.value != "required" && s.value != "opportunistic" && s.value != "off")
           throw ConfigError(s.key, "must be 'required', 'opportunistic' or 'off', not '" + s.value + "'");
         c.smtp_starttls = s.value;
       }},
      {"smtp_ca_file", false, path_setter(&Config::smtp_ca_file)},
      {"smtp_tls_insecure", false,
       [](Config& c, const Source& s) {
         if (s.value != "true" && s.value != "false")
           throw ConfigError(s.key, "must be 'true' or 'false', not '" + s.value + "'");
         c.smtp_tls_insecure = s.value == "true";
       }},
      {"smtp_timeout_seconds", false, int_setter(&Config::smtp_timeout_seconds, 1, 600)},
      {"twilio_account_sid", false,
       [](Config& c, const Source& s) {
         // Account SIDs are "AC" and 32 hex digits; anything else is a pasted auth token or key SID.
         bool ok = s.value.size() == 34 && s.value.rfind("AC", 0) == 0 &&
                   s.value.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos;
         if (!s.value.empty() && !ok) throw ConfigError(s.key, "expected 'AC' followed by 32 hex digits");
         c.twilio_account_sid = s.value;
       }},
      {"twilio_auth_token", true, string_setter(&Config::twilio_auth_token)},
      {"twilio_whatsapp_from", false,
       [](Config& c, const Source& s) {
         std::string_view number(s.value);
         if (number.rfind("whatsapp:", 0) == 0) number.remove_prefix(9);
         bool ok = number.size() >= 8 && number.size() <= 16 && number[0] == '+' && number[1] != '0' &&
                   number.find_first_not_of("0123456789", 1) == std::string_view::npos;
         if (!s.value.empty() && !ok)
           throw ConfigError(s.key, "expected an E.164 number such as +14155238886");
         c.twilio_whatsapp_from = std::string(number);
       }},
      {"twilio_api_url", false, url_setter(&Config::twilio_api_url, {"https://", "http://"}, false)},
      {"twilio_timeout_seconds", false, int_setter(&Config::twilio_timeout_seconds, 1, 600)},
      {"public_url", false,
       [](Config& c, const Source& s) {
         if (!s.value.empty() && s.value.rfind("https://", 0) != 0 && s.value.rfind("http://", 0) != 0)
           throw ConfigError(s.key, "expected an http:// or https:// URL");
         c.public_url = s.value;
         while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
       }},
  };
  return kSpecs;
}

const KeySpec* find_spec(std::string_view name) {
  for (const auto& spec : key_specs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string read_secret_file(const std::string& key, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(key, "cannot read file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string value = ss.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

// Collects key -> source from one layer (TOML or environment), resolving *_file variants.
using Layer = std::map<std::string, Source, std::less<>>;

void add_to_layer(Layer& layer, std::string_view name, const std::string& user_key,
                  const std::string& value) {
  if (const KeySpec* spec = find_spec(name)) {
    if (layer.count(spec->name) != 0) {
      throw ConfigError(user_key, "is given twice (directly and as a _FILE variant)");
    }
    layer[std::string(spec->name)] = Source{user_key, value};
    return;
  }
  if (name.size() > 5 && name.substr(name.size() - 5) == "_file") {
    std::string_view base = name.substr(0, name.size() - 5);
    if (const KeySpec* spec = find_spec(base); spec != nullptr && spec->secret) {
      if (layer.count(spec->name) != 0) {
        throw ConfigError(user_key, "is given twice (directly and as a _FILE variant)");
      }
      layer[std::string(spec->name)] = Source{user_key, read_secret_file(user_key, value)};
      return;
    }
  }
  throw ConfigError(user_key, "unknown configuration key");
}

Layer toml_layer(const std::filesystem::path& file) {
  Layer layer;
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream why;
    why << "invalid TOML at line " << e.source().begin.line << ": " << e.description();
    throw ConfigError(file.string(), why.str());
  }
  for (const auto& [k, node] : table) {
    std::string key(k.str());
    std::string user_key = key + " (in " + file.string() + ")";
    std::string value;
    if (auto s = node.value<std::string>(); s && node.is_string()) {
      value = *s;
    } else if (node.is_integer()) {
      value = std::to_string(*node.value<long long>());
    } else if (node.is_boolean()) {
      value = *node.value<bool>() ? "true" : "false";
    } else {
      if (find_spec(key) == nullptr) throw ConfigError(user_key, "unknown configuration key");
      throw ConfigError(user_key, "expected a string or an integer");
    }
    add_to_layer(layer, key, user_key, value);
  }
  return layer;
}

Layer env_layer(const EnvironmentMap& env) {
  Layer layer;
  for (const auto& [name, value] : env) {
    if (name.rfind(kEnvPrefix, 0) != 0 || name == "FACTORYOPS_CONFIG") continue;
    bool tool = std::any_of(std::begin(kToolPrefixes), std::end(kToolPrefixes),
                            [&](std::string_view p) { return name.rfind(p, 0) == 0; });
    if (tool) continue;
    std::string key;
    for (char c : name.substr(kEnvPrefix.size())) {
      key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    add_to_layer(layer, key, name, value);
  }
  return layer;
}

void apply_layer(Config& config, const Layer& layer) {
  for (const auto& [name, source] : layer) find_spec(name)->set(config, source);
}

void check_production_secrets(const Config& c) {
  if (!c.production()) return;
  const std::string key = "FACTORYOPS_JWT_SECRET";
  if (c.jwt_secret.empty()) throw ConfigError(key, "is required when FACTORYOPS_ENV=production");
  if (c.jwt_secret == kDevelopmentJwtSecret) {
    throw ConfigError(key, "is the development default; set a secret of your own in production");
  }
  if (c.jwt_secret.size() < 32) throw ConfigError(key, "must be at least 32 characters in production");
}

// A half-configured channel, or one that would send credentials unprotected, is a deployment
// mistake: production stops at start-up instead of failing on the first alert.
void check_notification_channels(Config& c) {
  if (c.public_url.empty() && !c.production())
    c.public_url = "http://localhost:" + std::to_string(c.http_port);
  if (!c.production()) return;
  const std::string why = " (FACTORYOPS_ENV=production refuses a half-configured channel)";
  ChannelSetup email = email_channel_setup(c);
  if (!email.problem.empty()) throw ConfigError(email.key, email.problem + why);
  ChannelSetup whatsapp = whatsapp_channel_setup(c);
  if (!whatsapp.problem.empty()) throw ConfigError(whatsapp.key, whatsapp.problem + why);
  if (email.enabled && c.smtp_tls_insecure) {
    throw ConfigError("FACTORYOPS_SMTP_TLS_INSECURE",
                      "turns certificate checks off and is refused in production");
  }
  // "opportunistic" falls back to clear text whenever STARTTLS is missing, which anyone on the
  // path can arrange by removing it from the server's greeting.
  if (email.enabled && c.smtp_starttls != "required" && c.smtp_url.rfind("smtp://", 0) == 0 &&
      !c.smtp_password.empty()) {
    throw ConfigError(
        "FACTORYOPS_SMTP_STARTTLS",
        "'" + c.smtp_starttls + "' could send FACTORYOPS_SMTP_PASSWORD unencrypted; use 'required'");
  }
  if (whatsapp.enabled && c.twilio_api_url.rfind("https://", 0) != 0) {
    throw ConfigError("FACTORYOPS_TWILIO_API_URL", "must be an https:// URL in production");
  }
  if ((email.enabled || whatsapp.enabled) && c.public_url.empty()) {
    throw ConfigError("FACTORYOPS_PUBLIC_URL",
                      "is required in production once a notification channel is on: "
                      "links in messages start with it");
  }
}

}  // namespace

ChannelSetup email_channel_setup(const Config& c) {
  auto incomplete = [](std::string key, std::string problem) {
    return ChannelSetup{false, std::move(key), std::move(problem)};
  };
  if (c.smtp_url.empty()) {
    if (!c.smtp_from.empty() || !c.smtp_username.empty() || !c.smtp_password.empty())
      return incomplete("FACTORYOPS_SMTP_URL", "is required when other FACTORYOPS_SMTP_* keys are set");
    return {};
  }
  if (c.smtp_from.empty())
    return incomplete("FACTORYOPS_SMTP_FROM", "is required when FACTORYOPS_SMTP_URL is set");
  if (!c.smtp_username.empty() && c.smtp_password.empty())
    return incomplete("FACTORYOPS_SMTP_PASSWORD", "is required when FACTORYOPS_SMTP_USERNAME is set");
  if (c.smtp_username.empty() && !c.smtp_password.empty())
    return incomplete("FACTORYOPS_SMTP_USERNAME", "is required when FACTORYOPS_SMTP_PASSWORD is set");
  return ChannelSetup{true, "", ""};
}

ChannelSetup whatsapp_channel_setup(const Config& c) {
  const std::pair<const char*, const std::string*> keys[] = {
      {"FACTORYOPS_TWILIO_ACCOUNT_SID", &c.twilio_account_sid},
      {"FACTORYOPS_TWILIO_AUTH_TOKEN", &c.twilio_auth_token},
      {"FACTORYOPS_TWILIO_WHATSAPP_FROM", &c.twilio_whatsapp_from},
  };
  int set = 0;
  for (const auto& [key, value] : keys) set += value->empty() ? 0 : 1;
  if (set == 0) return {};
  for (const auto& [key, value] : keys) {
    if (value->empty()) {
      return ChannelSetup{false, key,
                          "is required when any of FACTORYOPS_TWILIO_ACCOUNT_SID, _AUTH_TOKEN "
                          "and _WHATSAPP_FROM is set"};
    }
  }
  return ChannelSetup{true, "", ""};
}

EnvironmentMap process_environment() {
  EnvironmentMap out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(kv.substr(0, eq));
    if (name.rfind(kEnvPrefix, 0) == 0) out[name] = std::string(kv.substr(eq + 1));
  }
  return out;
}

Config load_config(const EnvironmentMap& env, const std::optional<std::filesystem::path>& config_file) {
  Config config;
  std::optional<std::filesystem::path> file = config_file;
  if (!file) {
    if (auto it = env.find("FACTORYOPS_CONFIG"); it != env.end() && !it->second.empty()) file = it->second;
  }
  if (file) {
    if (!std::filesystem::exists(*file)) throw ConfigError(file->string(), "configuration file not found");
    apply_layer(config, toml_layer(*file));
  }
  apply_layer(config, env_layer(env));

  if (config.database_url.empty())
    config.database_url = "sqlite:///" + (config.data_dir / "factoryops.db").string();
  if (config.jwt_secret.empty() && !config.production()) config.jwt_secret = kDevelopmentJwtSecret;
  if (!config.production()) {
    if (config.mqtt_password.empty()) config.mqtt_password = kDevelopmentMqttPassword;
    if (config.mqtt_admin_password.empty()) config.mqtt_admin_password = kDevelopmentMqttPassword;
  }
  check_production_secrets(config);
  check_notification_channels(config);
  return config;
}

std::vector<std::pair<std::string, std::string>> describe(const Config& c) {
  auto hide = [](const std::string& v) {
    return v.empty() ? std::string("(unset)") : std::string("(set, hidden)");
  };
  auto url = [](const std::string& v) { return v.empty() ? std::string("(unset)") : log::redact_url(v); };
  return {
      {"env", c.production() ? "production" : "development"},
      {"log_level", c.log_level},
      {"http_address", c.http_address},
      {"http_port", std::to_string(c.http_port)},
      {"http_io_threads", std::to_string(c.http_io_threads)},
      {"http_body_limit_bytes", std::to_string(c.http_body_limit_bytes)},
      {"http_read_timeout_seconds", std::to_string(c.http_read_timeout_seconds)},
      {"http_idle_timeout_seconds", std::to_string(c.http_idle_timeout_seconds)},
      {"shutdown_grace_seconds", std::to_string(c.shutdown_grace_seconds)},
      {"worker_threads", std::to_string(c.worker_threads)},
      {"worker_queue_capacity", std::to_string(c.worker_queue_capacity)},
      {"data_dir", c.data_dir.string()},
      {"static_dir", c.static_dir.string()},
      {"database_url", url(c.database_url)},
      {"tsdb_url", url(c.tsdb_url)},
      {"redis_url", url(c.redis_url)},
      {"job_visibility_timeout_seconds", std::to_string(c.job_visibility_timeout_seconds)},
      {"influxdb_token", hide(c.influxdb_token)},
      {"telemetry_spool_max_bytes", std::to_string(c.telemetry_spool_max_bytes)},
      {"retention_raw_days", std::to_string(c.retention_raw_days)},
      {"retention_rollup_days", std::to_string(c.retention_rollup_days)},
      {"mqtt_url", url(c.mqtt_url)},
      {"mqtt_username", c.mqtt_username},
      {"mqtt_password", hide(c.mqtt_password)},
      {"mqtt_provisioning", c.mqtt_provisioning},
      {"mqtt_admin_username", c.mqtt_admin_username},
      {"mqtt_admin_password", hide(c.mqtt_admin_password)},
      {"mqtt_auth_secret", hide(c.mqtt_auth_secret)},
      {"mqtt_share_group", c.mqtt_share_group.empty() ? "(none: plain subscription)" : c.mqtt_share_group},
      {"mqtt_group_commit_ms", std::to_string(c.mqtt_group_commit_ms)},
      {"jwt_secret", hide(c.jwt_secret)},
      {"jwt_keys_file",
       c.jwt_keys_file.empty() ? "(default: <data_dir>/jwt-keys)" : c.jwt_keys_file.string()},
      {"access_token_ttl_seconds", std::to_string(c.access_token_ttl_seconds)},
      {"refresh_token_ttl_seconds", std::to_string(c.refresh_token_ttl_seconds)},
      {"smtp_url", url(c.smtp_url)},
      {"smtp_username", c.smtp_username.empty() ? "(unset)" : c.smtp_username},
      {"smtp_password", hide(c.smtp_password)},
      {"smtp_from", c.smtp_from.empty() ? "(unset)" : c.smtp_from},
      {"smtp_starttls", c.smtp_starttls},
      {"smtp_ca_file", c.smtp_ca_file.empty() ? "(system CA store)" : c.smtp_ca_file.string()},
      {"smtp_tls_insecure", c.smtp_tls_insecure ? "true" : "false"},
      {"smtp_timeout_seconds", std::to_string(c.smtp_timeout_seconds)},
      {"twilio_account_sid", c.twilio_account_sid.empty() ? "(unset)" : c.twilio_account_sid},
      {"twilio_auth_token", hide(c.twilio_auth_token)},
      {"twilio_whatsapp_from", c.twilio_whatsapp_from.empty() ? "(unset)" : c.twilio_whatsapp_from},
      {"twilio_api_url", c.twilio_api_url},
      {"twilio_timeout_seconds", std::to_string(c.twilio_timeout_seconds)},
      {"public_url", c.public_url.empty() ? "(unset)" : c.public_url},
  };
}

}  // namespace factoryops::core
