#include "mqtt/client.hpp"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "core/errors.hpp"
#include "core/logging.hpp"

namespace factoryops::mqtt {

namespace {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

int parse_port(std::string_view text, const std::string& key) {
  int port = 0;
  if (text.empty() || text.size() > 5) throw core::Invalid(key, "has an invalid port");
  for (char c : text) {
    if (c < '0' || c > '9') throw core::Invalid(key, "has an invalid port");
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) throw core::Invalid(key, "port must be within 1..65535");
  return port;
}

unsigned int jittered(std::chrono::seconds base) {
  thread_local std::mt19937 random{std::random_device{}()};
  // 1x .. 2x the base, so replicas that lost the broker together do not return together.
  std::uniform_int_distribution<long> spread(0, base.count());
  return static_cast<unsigned int>(base.count() + spread(random));
}

}  // namespace

BrokerAddress parse_broker_url(std::string_view url, const std::string& key) {
  std::string_view rest;
  for (std::string_view scheme : {"mqtt://", "tcp://"}) {
    if (url.substr(0, scheme.size()) == scheme) rest = url.substr(scheme.size());
  }
  if (rest.empty()) {
    if (url.rfind("mqtts://", 0) == 0 || url.rfind("ssl://", 0) == 0)
      throw core::Invalid(key, "TLS to the broker is not supported by this version; use mqtt://host:port");
    throw core::Invalid(key, "must look like mqtt://host:port");
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") throw core::Invalid(key, "must not have a path");
    rest = rest.substr(0, slash);
  }
  if (rest.find('@') != std::string_view::npos)
    throw core::Invalid(key, "must not carry credentials; use FACTORYOPS_MQTT_USERNAME and _PASSWORD");
  BrokerAddress address;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) throw core::Invalid(key, "has an unterminated IPv6 address");
    address.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw core::Invalid(key, "must look like mqtt://host:port");
      address.port = parse_port(rest.substr(1), key);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    address.host = std::string(rest.substr(0, colon));
    address.port = parse_port(rest.substr(colon + 1), key);
  } else {
    address.host = std::string(rest);
  }
  if (address.host.empty()) throw core::Invalid(key, "has no host");
  return address;
}

std::string reason_text(int reason) {
  return mosquitto_reason_string(reason);
}

Client::Client(BrokerAddress broker, ClientOptions options)
    : broker_(std::move(broker)), options_(std::move(options)) {
  init_library();
  const char* id = options_.client_id.empty() ? nullptr : options_.client_id.c_str();
  handle_ = mosquitto_new(id, options_.clean_start, this);
  if (handle_ == nullptr) throw core::Unavailable("cannot create an MQTT client (out of memory or bad id)");
  mosquitto_int_option(handle_, MOSQ_OPT_PROTOCOL_VERSION,
                       options_.protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
  if (!options_.username.empty())
    mosquitto_username_pw_set(handle_, options_.username.c_str(), options_.password.c_str());
  if (options_.will) {
    const auto& will = *options_.will;
    mosquitto_will_set(handle_, will.topic.c_str(), static_cast<int>(will.payload.size()),
                       will.payload.data(), will.qos, will.retain);
  }
  mosquitto_max_inflight_messages_set(handle_, static_cast<unsigned int>(options_.max_inflight));
  mosquitto_reconnect_delay_set(handle_, jittered(options_.reconnect_min),
                                static_cast<unsigned int>(options_.reconnect_max.count()), true);
  mosquitto_connect_v5_callback_set(
      handle_, [](mosquitto* m, void* self, int rc, int flags, const mosquitto_property* props) {
        handle_connect(m, self, rc, flags, props);
      });
  mosquitto_disconnect_v5_callback_set(handle_,
                                       [](mosquitto* m, void* self, int rc, const mosquitto_property* props) {
                                         handle_disconnect(m, self, rc, props);
                                       });
  mosquitto_subscribe_v5_callback_set(
      handle_, [](mosquitto*, void* self, int, int, const int*, const mosquitto_property*) {
        static_cast<Client*>(self)->subacks_.fetch_add(1);
      });
  mosquitto_message_v5_callback_set(
      handle_, [](mosquitto* m, void* self, const mosquitto_message* message,
                  const mosquitto_property* props) { handle_message(m, self, message, props); });
}

Client::~Client() {
  stop();
  mosquitto_destroy(handle_);
}

void Client::start() {
  if (started_.exchange(true)) return;
  // A refused or failed first attempt is retried by the network thread like any later one.
  int rc = mosquitto_connect_async(handle_, broker_.host.c_str(), broker_.port, options_.keepalive_seconds);
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO) {
    throw core::Unavailable("MQTT connect to " + broker_.host + ":" + std::to_string(broker_.port) +
                            " failed: " + mosquitto_strerror(rc));
  }
  rc = mosquitto_loop_start(handle_);
  if (rc != MOSQ_ERR_SUCCESS)
    throw core::Unavailable(std::string("cannot start the MQTT network thread: ") + mosquitto_strerror(rc));
}

bool Client::wait_connected(std::chrono::milliseconds timeout, std::string* refusal) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!connected_.load()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      if (refusal != nullptr && last_refusal_.load() != 0) *refusal = reason_text(last_refusal_.load());
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void Client::stop() {
  if (!started_.exchange(false)) return;
  mosquitto_disconnect(handle_);
  mosquitto_loop_stop(handle_, false);
  connected_ = false;
}

void Client::subscribe(const std::string& filter, int qos) {
  int rc = mosquitto_subscribe(handle_, nullptr, filter.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS)
    throw core::Unavailable("MQTT subscribe to '" + filter + "' failed: " + mosquitto_strerror(rc));
}

int Client::publish(std::string_view topic, std::string_view payload, int qos, bool retain) {
  int mid = 0;
  std::string topic_text(topic);
  int rc = mosquitto_publish(handle_, &mid, topic_text.c_str(), static_cast<int>(payload.size()),
                             payload.data(), qos, retain);
  if (rc != MOSQ_ERR_SUCCESS)
    throw core::Unavailable(std::string("MQTT publish failed: ") + mosquitto_strerror(rc));
  return mid;
}

void Client::handle_connect(mosquitto* m, void* self, int rc, int flags, const void* /*props*/) {
  auto* client = static_cast<Client*>(self);
  if (rc != 0) {
    client->last_refusal_ = rc;
    return;  // the network thread retries after the reconnect delay
  }
  client->last_refusal_ = 0;
  mosquitto_reconnect_delay_set(m, jittered(client->options_.reconnect_min),
                                static_cast<unsigned int>(client->options_.reconnect_max.count()), true);
  if (client->connections_.fetch_add(1) > 0) client->reconnects_.fetch_add(1);
  if (client->connect_handler_) {
    try {
      client->connect_handler_((flags & 1) != 0);
    } catch (const std::exception& e) {
      log::error("MQTT connect handler failed", {{"error", std::string_view(e.what())}});
    }
  }
  client->connected_ = true;
}

void Client::handle_disconnect(mosquitto* m, void* self, int rc, const void* /*props*/) {
  auto* client = static_cast<Client*>(self);
  bool was_connected = client->connected_.exchange(false);
  // A new random base for the coming backoff: replicas that lost the broker together spread out.
  mosquitto_reconnect_delay_set(m, jittered(client->options_.reconnect_min),
                                static_cast<unsigned int>(client->options_.reconnect_max.count()), true);
  if (was_connected && client->disconnect_handler_) client->disconnect_handler_(rc);
}

void Client::handle_message(mosquitto* /*m*/, void* self, const void* raw, const void* /*props*/) {
  auto* client = static_cast<Client*>(self);
  const auto* message = static_cast<const mosquitto_message*>(raw);
  if (!client->message_handler_) return;
  Message view{message->topic,
               std::string_view(static_cast<const char*>(message->payload),
                                static_cast<std::size_t>(message->payloadlen)),
               message->qos, message->retain};
  try {
    client->message_handler_(view);
  } catch (const std::exception& e) {
    // Handlers deal with their own failures; this only keeps an exception out of C code.
    log::error("MQTT message handler failed", {{"topic", view.topic}, {"error", std::string_view(e.what())}});
  }
}

}  // namespace factoryops::mqtt
