// One MQTT 5 connection over libmosquitto with its own network thread: connects in the
// background, reconnects forever with exponential backoff and jitter (HLD §11), and hands
// messages to a callback on that thread. An incoming QoS 1 message is acknowledged to the
// broker only after the callback returns, so a callback that makes the message durable first
// loses nothing if the process dies. Thread-safe except for setting callbacks (before start()).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

struct mosquitto;

namespace factoryops::mqtt {

struct BrokerAddress {
  std::string host = "127.0.0.1";
  int port = 1883;
};

// "mqtt://host:port" or "tcp://host:port" (port defaults to 1883). Throws core::Invalid naming
// `key` for anything else (TLS listeners are not supported by this version).
BrokerAddress parse_broker_url(std::string_view url, const std::string& key = "mqtt_url");

struct Will {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retain = true;
};

struct ClientOptions {
  std::string client_id;  // empty: the broker assigns one (only with clean_start)
  std::string username;
  std::string password;
  bool clean_start = true;  // false: a persistent session (queued QoS 1 messages survive)
  int keepalive_seconds = 30;
  std::optional<Will> will{};
  // Reconnection delay: starts at `reconnect_min` (plus jitter), doubles up to `reconnect_max`.
  std::chrono::seconds reconnect_min{1};
  std::chrono::seconds reconnect_max{30};
  // QoS 1/2 messages in flight towards the broker (0 = unlimited).
  int max_inflight = 1000;
  // 5 (MQTT 5: publishes to a forbidden topic are refused with a reason) or 4 (MQTT 3.1.1: a
  // persistent session needs no expiry property).
  int protocol = 5;
};

struct Message {
  std::string_view topic;
  std::string_view payload;
  int qos = 0;
  bool retain = false;
};

class Client {
 public:
  using MessageHandler = std::function<void(const Message&)>;
  // After every successful (re)connection, on the network thread: subscribe here.
  using ConnectHandler = std::function<void(bool session_present)>;
  using DisconnectHandler = std::function<void(int reason)>;

  Client(BrokerAddress broker, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void on_message(MessageHandler handler) { message_handler_ = std::move(handler); }
  void on_connect(ConnectHandler handler) { connect_handler_ = std::move(handler); }
  void on_disconnect(DisconnectHandler handler) { disconnect_handler_ = std::move(handler); }

  // Starts the network thread and the first connection attempt; returns at once.
  void start();
  // Waits until connected; false on timeout. `refusal` gets the broker's reason when it
  // refused the credentials (e.g. "not authorised").
  bool wait_connected(std::chrono::milliseconds timeout, std::string* refusal = nullptr);
  bool connected() const { return connected_.load(); }
  // Disconnects cleanly (the will is not sent) and stops the thread. Idempotent.
  void stop();

  // Thread-safe; from the network thread too. Throws core::Unavailable when the message cannot
  // be queued (not connected and the library refuses, or the payload is too big).
  void subscribe(const std::string& filter, int qos);
  int publish(std::string_view topic, std::string_view payload, int qos, bool retain);

  std::uint64_t reconnects() const { return reconnects_.load(); }
  // SUBACKs received since start (to wait until a subscription is in place).
  std::uint64_t subscriptions_acknowledged() const { return subacks_.load(); }

 private:
  static void handle_connect(mosquitto* m, void* self, int rc, int flags, const void* props);
  static void handle_disconnect(mosquitto* m, void* self, int rc, const void* props);
  static void handle_message(mosquitto* m, void* self, const void* message, const void* props);

  BrokerAddress broker_;
  ClientOptions options_;
  mosquitto* handle_ = nullptr;
  MessageHandler message_handler_;
  ConnectHandler connect_handler_;
  DisconnectHandler disconnect_handler_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> started_{false};
  std::atomic<int> last_refusal_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<std::uint64_t> subacks_{0};
};

// The libmosquitto reason text for a CONNACK / DISCONNECT reason code.
std::string reason_text(int reason);

}  // namespace factoryops::mqtt
