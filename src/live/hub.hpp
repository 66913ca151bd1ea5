// LiveHub: fans stored readings and device status changes out to the live-feed clients of the
// same factory, each with its own subscription, coalescing every series to at most one update per
// min_interval (10 per second) and never blocking the publisher: a client whose bounded queue is
// full is dropped (1013). Thread-safe behind one lock; outlives the clients it serves.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/ids.hpp"
#include "core/metrics.hpp"
#include "tsdb/store.hpp"

namespace factoryops::live {

// A client's outbound side as the hub sees it. Implementations are thread-safe, never block, and
// never call back into the hub.
class Outbox {
 public:
  virtual ~Outbox() = default;
  // Queues one message; false when the client's queue is full (nothing queued).
  virtual bool push(std::string message) = 0;
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

using ClientId = std::uint64_t;

class LiveHub {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    // Per series (device, parameter): at most one update per interval; newer values replace
    // pending ones.
    std::chrono::milliseconds min_interval{100};
    // A thread sends coalesced values once their interval has passed. Tests turn it off and call
    // flush_due() with a clock of their own.
    bool flush_thread = true;
    std::function<Clock::time_point()> clock{};  // default: steady_clock::now
    core::metrics::Registry* metrics = nullptr;  // default: the global registry
  };

  LiveHub();
  explicit LiveHub(Options options);
  ~LiveHub();
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;

  // A client of `factory`, subscribed to nothing yet. It only ever sees that factory's data.
  ClientId add_client(const core::FactoryId& factory, std::shared_ptr<Outbox> outbox);
  // Forgets the client (no-op when already gone, e.g. dropped).
  void remove_client(ClientId client);

  // Adds series: every device of the factory (`devices` nullopt) or the listed ones, with only
  // `params` (nullopt: every parameter). Naming a device again replaces its parameter list; so
  // does subscribing to every device again. Callers check that listed devices are the factory's.
  void subscribe(ClientId client, const std::optional<std::vector<core::DeviceId>>& devices,
                 const std::optional<std::vector<std::string>>& params);
  // Removes the listed devices' own subscriptions, or with nullopt every subscription.
  void unsubscribe(ClientId client, const std::optional<std::vector<core::DeviceId>>& devices);

  // The client's own messages (ready, pong, errors) go through the same queue, in order with the
  // data. False when the client is gone or was just dropped for a full queue.
  bool send(ClientId client, std::string message);

  // A stored batch (the ingest pipeline's listener). Never blocks on a client.
  void publish(const tsdb::DeviceBatch& batch);
  // A device went online or offline (MQTT status, or its absence). Not coalesced.
  void publish_status(const core::FactoryId& factory, const core::DeviceId& device, bool online,
                      std::int64_t last_seen_ms);

  // A message for every client of the factory whatever it subscribed to (alert events, which
  // concern the whole factory). Not coalesced; never blocks on a client.
  void publish_to_factory(const core::FactoryId& factory, const std::string& message);

  // Sends every coalesced value whose interval has passed. The flush thread calls it.
  void flush_due();

  std::size_t client_count() const;

 private:
  struct SeriesState {
    Clock::time_point last_sent = Clock::time_point::min();
    std::int64_t sent_ts = INT64_MIN;  // newest timestamp the client has: older points are not sent
    bool pending = false;
    std::int64_t pending_ts = 0;
    double pending_value = 0;
  };
  struct ParamFilter {
    bool all = true;
    std::unordered_set<std::string> keys;
    bool covers(const std::string& key) const { return all || keys.contains(key); }
  };
  struct Client {
    ClientId id = 0;
    core::FactoryId factory;
    std::shared_ptr<Outbox> outbox{};
    std::optional<ParamFilter> every_device{};               // "*"
    std::unordered_map<std::string, ParamFilter> devices{};  // by device id
    // device -> parameter -> state, for covered series that have had data.
    std::unordered_map<std::string, std::unordered_map<std::string, SeriesState>> series{};
    // device -> parameters with a pending value.
    std::unordered_map<std::string, std::vector<std::string>> pending{};
    Clock::time_point next_due = Clock::time_point::max();

    bool covers_device(const std::string& device) const;
    bool covers(const std::string& device, const std::string& key) const;
  };

  Clock::time_point now() const;
  // Sends the device's pending values that are due, one message per timestamp; updates
  // next_due. False when the client's queue was full.
  bool send_due(Client& client, const std::string& device, Clock::time_point now);
  bool push(Client& client, std::string message);
  void forget_uncovered(Client& client);
  void drop(ClientId client);
  void note_due(Client& client);
  void flush_loop(const std::stop_token& stop);

  const Options options_;
  core::metrics::Gauge& clients_gauge_;
  core::metrics::Counter& sent_counter_;
  core::metrics::Counter& dropped_counter_;

  // The one lock: guards every member below. Held while messages are formatted and queued,
  // which is cheap and never waits on a client.
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  ClientId next_id_ = 1;
  std::unordered_map<ClientId, std::unique_ptr<Client>> clients_;
  std::unordered_map<core::FactoryId, std::vector<Client*>> by_factory_;
  std::unordered_set<ClientId> with_pending_;
  Clock::time_point earliest_due_ = Clock::time_point::max();

  std::jthread flusher_;  // last: stops before the members it uses go
};

}  // namespace factoryops::live
