#include "mqtt/dynsec.hpp"

#include <boost/json.hpp>
#include <thread>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "mqtt/topics.hpp"

namespace factoryops::mqtt {

namespace json = boost::json;

namespace {

constexpr const char* kCommandTopic = "$CONTROL/dynamic-security/v1";
constexpr const char* kResponseTopic = "$CONTROL/dynamic-security/v1/response";
constexpr const char* kTelemetryRole = "factoryops-telemetry";

std::string role_of(const core::FactoryId& factory, const core::DeviceId& device) {
  return "device:" + factory.str() + ":" + device.str();
}

std::string error_of(const json::value& response) {
  if (!response.is_object()) return "malformed answer";
  if (const auto* error = response.as_object().if_contains("error"); error != nullptr && error->is_string())
    return std::string(error->as_string());
  return {};
}

bool already_exists(const std::string& error) {
  return error.find("already exists") != std::string::npos;
}
bool not_found(const std::string& error) {
  return error.find("not found") != std::string::npos;
}

json::object acl(const char* type, const std::string& topic) {
  return {{"acltype", type}, {"topic", topic}, {"allow", true}, {"priority", 0}};
}

}  // namespace

std::string device_client_name(const core::FactoryId& factory, const core::DeviceId& device) {
  return "device " + factory.str() + "/" + device.str();
}

DynamicSecurity::DynamicSecurity(DynamicSecurityOptions options) : options_(std::move(options)) {}

DynamicSecurity::~DynamicSecurity() {
  std::unique_ptr<Client> client;
  {
    std::lock_guard lock(mutex_);
    client = std::move(client_);
  }
  if (client) client->stop();
}

void DynamicSecurity::connect_locked(std::unique_lock<std::mutex>& lock) {
  if (client_ && client_->connected()) return;
  if (!client_) {
    ClientOptions client_options;
    client_options.username = options_.admin_username;
    client_options.password = options_.admin_password;
    client_options.protocol = 5;
    client_ = std::make_unique<Client>(options_.broker, client_options);
    client_->on_connect([this](bool) { client_->subscribe(kResponseTopic, 1); });
    client_->on_message([this](const Message& message) {
      boost::system::error_code ec;
      auto value = json::parse(message.payload, ec);
      if (ec || !value.is_object()) return;
      const auto* responses = value.as_object().if_contains("responses");
      if (responses == nullptr || !responses->is_array()) return;
      std::lock_guard guard(mutex_);
      for (const auto& response : responses->as_array()) {
        const auto* correlation =
            response.is_object() ? response.as_object().if_contains("correlationData") : nullptr;
        if (correlation != nullptr && correlation->is_string() && correlation->as_string() == awaited_) {
          answer_ = *responses;
          answered_.notify_all();
          return;
        }
      }
    });
    client_->start();
  }
  Client* client = client_.get();
  std::uint64_t acknowledged = client->subscriptions_acknowledged();
  lock.unlock();
  std::string refusal;
  bool up = client->wait_connected(options_.timeout, &refusal);
  // The response subscription must be in place before the first command goes out.
  auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  while (up && client->subscriptions_acknowledged() == acknowledged && acknowledged == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  lock.lock();
  if (!up) {
    throw core::Unavailable(
        "MQTT broker " + options_.broker.host + ":" + std::to_string(options_.broker.port) +
        (refusal.empty() ? std::string(" unreachable") : " refused the admin credential (" + refusal + ")") +
        "; device credentials cannot be provisioned");
  }
}

json::array DynamicSecurity::execute(json::array commands) {
  if (commands.empty()) return {};
  std::lock_guard serial(command_mutex_);
  std::unique_lock lock(mutex_);
  connect_locked(lock);
  awaited_ = "fo-" + std::to_string(next_correlation_++);
  answer_.reset();
  commands.back().as_object()["correlationData"] = awaited_;
  std::string body = json::serialize(json::object{{"commands", std::move(commands)}});
  client_->publish(kCommandTopic, body, 1, false);
  if (!answered_.wait_for(lock, options_.timeout, [this] { return answer_.has_value(); })) {
    throw core::Unavailable("MQTT broker did not answer a dynamic-security command within " +
                            std::to_string(options_.timeout.count()) + " ms (is the plugin loaded?)");
  }
  json::array responses = answer_->as_array();
  answer_.reset();
  return responses;
}

void DynamicSecurity::grant(const core::FactoryId& factory, const core::DeviceId& device,
                            const std::string& api_key, bool enabled) {
  const std::string role = role_of(factory, device);
  const std::string root = device_topic_root(factory, device);
  json::array commands;
  commands.push_back(json::object{{"command", "createRole"},
                                  {"rolename", role},
                                  {"textname", device_client_name(factory, device)},
                                  {"acls", json::array{acl("publishClientSend", root + "telemetry"),
                                                       acl("publishClientSend", root + "status")}}});
  commands.push_back(json::object{{"command", "createClient"},
                                  {"username", api_key},
                                  {"password", api_key},
                                  {"textname", device_client_name(factory, device)},
                                  {"roles", json::array{json::object{{"rolename", role}, {"priority", 0}}}}});
  if (!enabled) commands.push_back(json::object{{"command", "disableClient"}, {"username", api_key}});
  auto responses = execute(std::move(commands));
  for (const auto& response : responses) {
    std::string error = error_of(response);
    if (!error.empty() && !already_exists(error))
      throw core::Unavailable("MQTT broker refused the device credential: " + error);
  }
}

std::vector<DynamicSecurity::DeviceClient> DynamicSecurity::clients_of(const core::FactoryId& factory,
                                                                       const core::DeviceId& device) {
  const std::string name = device_client_name(factory, device);
  std::vector<DeviceClient> out;
  auto responses =
      execute(json::array{json::object{{"command", "listClients"}, {"verbose", true}, {"count", -1}}});
  for (const auto& response : responses) {
    if (!error_of(response).empty())
      throw core::Unavailable("MQTT broker cannot list clients: " + error_of(response));
    const auto* data = response.as_object().if_contains("data");
    if (data == nullptr || !data->is_object()) continue;
    const auto* clients = data->as_object().if_contains("clients");
    if (clients == nullptr || !clients->is_array()) continue;
    for (const auto& client : clients->as_array()) {
      if (!client.is_object()) continue;
      const auto& object = client.as_object();
      const auto* textname = object.if_contains("textname");
      const auto* username = object.if_contains("username");
      if (textname == nullptr || !textname->is_string() || username == nullptr || !username->is_string())
        continue;
      if (textname->as_string() != name) continue;
      const auto* disabled = object.if_contains("disabled");
      out.push_back({std::string(username->as_string()),
                     disabled != nullptr && disabled->is_bool() && disabled->as_bool()});
    }
  }
  return out;
}

void DynamicSecurity::revoke(const core::FactoryId& factory, const core::DeviceId& device,
                             const std::string& keep_key) {
  json::array commands;
  for (const auto& client : clients_of(factory, device)) {
    if (client.username == keep_key) continue;
    commands.push_back(json::object{{"command", "deleteClient"}, {"username", client.username}});
  }
  if (keep_key.empty())
    commands.push_back(json::object{{"command", "deleteRole"}, {"rolename", role_of(factory, device)}});
  auto responses = execute(std::move(commands));
  for (const auto& response : responses) {
    std::string error = error_of(response);
    if (!error.empty() && !not_found(error))
      throw core::Unavailable("MQTT broker refused to revoke a key: " + error);
  }
}

void DynamicSecurity::revoke_key(const std::string& api_key) {
  auto responses = execute(json::array{json::object{{"command", "deleteClient"}, {"username", api_key}}});
  for (const auto& response : responses) {
    std::string error = error_of(response);
    if (!error.empty() && !not_found(error))
      throw core::Unavailable("MQTT broker refused to revoke a key: " + error);
  }
}

void DynamicSecurity::set_enabled(const core::FactoryId& factory, const core::DeviceId& device,
                                  bool enabled) {
  json::array commands;
  for (const auto& client : clients_of(factory, device)) {
    commands.push_back(
        json::object{{"command", enabled ? "enableClient" : "disableClient"}, {"username", client.username}});
  }
  auto responses = execute(std::move(commands));
  for (const auto& response : responses) {
    std::string error = error_of(response);
    if (!error.empty())
      throw core::Unavailable("MQTT broker refused to change a device credential: " + error);
  }
}

void DynamicSecurity::ensure_telemetry_client(const std::string& username, const std::string& password) {
  json::array acls;
  // The shared filters (replicas) and the plain ones (a single replica without a share group).
  for (auto kind : {TopicKind::telemetry, TopicKind::status}) {
    acls.push_back(acl("subscribePattern", shared_filter(kind)));
    acls.push_back(acl("subscribePattern", subscription_filter(kind, {})));
  }
  json::array commands;
  commands.push_back(json::object{{"command", "createRole"},
                                  {"rolename", kTelemetryRole},
                                  {"textname", "FactoryOps telemetry role"},
                                  {"acls", acls}});
  commands.push_back(
      json::object{{"command", "createClient"},
                   {"username", username},
                   {"password", password},
                   {"textname", "FactoryOps telemetry role"},
                   {"roles", json::array{json::object{{"rolename", kTelemetryRole}, {"priority", 0}}}}});
  for (const auto& response : execute(std::move(commands))) {
    std::string error = error_of(response);
    if (!error.empty() && !already_exists(error))
      throw core::Unavailable("MQTT broker refused the telemetry credential: " + error);
  }
  // The client existed already. Changing it would disconnect every replica using it, so it is
  // changed only when the configured password no longer works (it was changed in the config).
  ClientOptions probe_options;
  probe_options.username = username;
  probe_options.password = password;
  probe_options.protocol = 5;
  Client probe(options_.broker, probe_options);
  probe.start();
  std::string refusal;
  bool accepted = probe.wait_connected(options_.timeout, &refusal);
  probe.stop();
  if (accepted) return;
  log::info("MQTT telemetry credential differs from the configuration; updating it on the broker");
  commands = json::array{};
  commands.push_back(
      json::object{{"command", "setClientPassword"}, {"username", username}, {"password", password}});
  commands.push_back(json::object{{"command", "getClient"}, {"username", username}});
  bool has_role = false;
  for (const auto& response : execute(std::move(commands))) {
    std::string error = error_of(response);
    if (!error.empty()) throw core::Unavailable("MQTT broker refused the telemetry credential: " + error);
    const auto* data = response.is_object() ? response.as_object().if_contains("data") : nullptr;
    const auto* client =
        data != nullptr && data->is_object() ? data->as_object().if_contains("client") : nullptr;
    const auto* roles =
        client != nullptr && client->is_object() ? client->as_object().if_contains("roles") : nullptr;
    if (roles == nullptr || !roles->is_array()) continue;
    for (const auto& role : roles->as_array()) {
      const auto* name = role.is_object() ? role.as_object().if_contains("rolename") : nullptr;
      if (name != nullptr && name->is_string() && name->as_string() == kTelemetryRole) has_role = true;
    }
  }
  // A client an older release made without the role gets it. Asked first because Mosquitto 2.0
  // answers addClientRole for a role the client already has with "Internal error".
  if (!has_role) {
    auto added = execute(json::array{
        json::object{{"command", "addClientRole"}, {"username", username}, {"rolename", kTelemetryRole}}});
    for (const auto& response : added) {
      if (!error_of(response).empty())
        throw core::Unavailable("MQTT broker refused the telemetry role: " + error_of(response));
    }
  }
}

std::size_t DynamicSecurity::reconcile(const OwnerLookup& owner_of_key) {
  auto responses =
      execute(json::array{json::object{{"command", "listClients"}, {"verbose", true}, {"count", -1}}});
  json::array commands;
  for (const auto& response : responses) {
    if (!error_of(response).empty())
      throw core::Unavailable("MQTT broker cannot list clients: " + error_of(response));
    const auto* data = response.as_object().if_contains("data");
    const auto* clients =
        data != nullptr && data->is_object() ? data->as_object().if_contains("clients") : nullptr;
    if (clients == nullptr || !clients->is_array()) continue;
    for (const auto& client : clients->as_array()) {
      if (!client.is_object()) continue;
      const auto& object = client.as_object();
      const auto* textname = object.if_contains("textname");
      const auto* username = object.if_contains("username");
      if (textname == nullptr || !textname->is_string() || username == nullptr || !username->is_string())
        continue;
      std::string_view name = textname->as_string();
      if (name.rfind("device ", 0) != 0) continue;
      std::string key(username->as_string());
      auto owner = owner_of_key(key);
      if (!owner || device_client_name(owner->factory_id, owner->device_id) != name) {
        commands.push_back(json::object{{"command", "deleteClient"}, {"username", key}});
        continue;
      }
      const auto* disabled = object.if_contains("disabled");
      bool is_disabled = disabled != nullptr && disabled->is_bool() && disabled->as_bool();
      if (is_disabled == owner->is_enabled) {
        commands.push_back(json::object{{"command", owner->is_enabled ? "enableClient" : "disableClient"},
                                        {"username", key}});
      }
    }
  }
  std::size_t changed = commands.size();
  if (changed > 0) {
    execute(std::move(commands));
    log::info("MQTT broker credentials reconciled with the machine registry", {{"changed", changed}});
  }
  return changed;
}

}  // namespace factoryops::mqtt
