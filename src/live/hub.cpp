#include "live/hub.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "live/protocol.hpp"

namespace factoryops::live {
namespace {

core::metrics::Registry& registry_of(const LiveHub::Options& options) {
  return options.metrics != nullptr ? *options.metrics : core::metrics::Registry::global();
}

}  // namespace

bool LiveHub::Client::covers_device(const std::string& device) const {
  return every_device.has_value() || devices.contains(device);
}

bool LiveHub::Client::covers(const std::string& device, const std::string& key) const {
  if (every_device && every_device->covers(key)) return true;
  auto it = devices.find(device);
  return it != devices.end() && it->second.covers(key);
}

LiveHub::LiveHub() : LiveHub(Options{}) {}

LiveHub::LiveHub(Options options)
    : options_(std::move(options)),
      clients_gauge_(registry_of(options_)
                         .gauge("live_clients_connected", "Live-feed WebSocket clients signed in now")
                         .labels({})),
      sent_counter_(registry_of(options_)
                        .counter("live_messages_sent_total", "Messages queued to live-feed clients")
                        .labels({})),
      dropped_counter_(registry_of(options_)
                           .counter("live_clients_dropped_total",
                                    "Live-feed clients disconnected (1013) because they could not keep up")
                           .labels({})) {
  if (options_.flush_thread)
    flusher_ = std::jthread([this](const std::stop_token& stop) { flush_loop(stop); });
}

LiveHub::~LiveHub() {
  if (flusher_.joinable()) {
    flusher_.request_stop();
    flusher_.join();
  }
  clients_gauge_.dec(static_cast<double>(clients_.size()));
}

LiveHub::Clock::time_point LiveHub::now() const {
  return options_.clock ? options_.clock() : Clock::now();
}

ClientId LiveHub::add_client(const core::FactoryId& factory, std::shared_ptr<Outbox> outbox) {
  std::lock_guard lock(mutex_);
  auto client =
      std::make_unique<Client>(Client{.id = next_id_++, .factory = factory, .outbox = std::move(outbox)});
  const ClientId id = client->id;
  by_factory_[factory].push_back(client.get());
  clients_.emplace(id, std::move(client));
  clients_gauge_.inc();
  return id;
}

void LiveHub::remove_client(ClientId id) {
  std::lock_guard lock(mutex_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  auto factory = by_factory_.find(it->second->factory);
  if (factory != by_factory_.end()) {
    std::erase(factory->second, it->second.get());
    if (factory->second.empty()) by_factory_.erase(factory);
  }
  with_pending_.erase(id);
  clients_.erase(it);
  clients_gauge_.dec();
}

void LiveHub::drop(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  auto outbox = it->second->outbox;
  auto factory = by_factory_.find(it->second->factory);
  if (factory != by_factory_.end()) {
    std::erase(factory->second, it->second.get());
    if (factory->second.empty()) by_factory_.erase(factory);
  }
  with_pending_.erase(id);
  clients_.erase(it);
  clients_gauge_.dec();
  dropped_counter_.inc();
  outbox->close(kCloseTryAgainLater, "too slow");
}

bool LiveHub::push(Client& client, std::string message) {
  if (!client.outbox->push(std::move(message))) return false;
  sent_counter_.inc();
  return true;
}

void LiveHub::forget_uncovered(Client& client) {
  for (auto device = client.series.begin(); device != client.series.end();) {
    if (!client.covers_device(device->first)) {
      device = client.series.erase(device);
      continue;
    }
    std::erase_if(device->second,
                  [&](const auto& entry) { return !client.covers(device->first, entry.first); });
    ++device;
  }
  for (auto device = client.pending.begin(); device != client.pending.end();) {
    auto states = client.series.find(device->first);
    std::erase_if(device->second, [&](const std::string& key) {
      return states == client.series.end() || !states->second.contains(key);
    });
    device = device->second.empty() ? client.pending.erase(device) : std::next(device);
  }
  if (client.pending.empty()) {
    client.next_due = Clock::time_point::max();
    with_pending_.erase(client.id);
  }
}

void LiveHub::subscribe(ClientId id, const std::optional<std::vector<core::DeviceId>>& devices,
                        const std::optional<std::vector<std::string>>& params) {
  ParamFilter filter;
  if (params) {
    filter.all = false;
    filter.keys.insert(params->begin(), params->end());
  }
  std::lock_guard lock(mutex_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client& client = *it->second;
  if (!devices) {
    client.every_device = std::move(filter);
  } else {
    for (const auto& device : *devices) client.devices[device.str()] = filter;
  }
  forget_uncovered(client);
}

void LiveHub::unsubscribe(ClientId id, const std::optional<std::vector<core::DeviceId>>& devices) {
  std::lock_guard lock(mutex_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client& client = *it->second;
  if (!devices) {
    client.every_device.reset();
    client.devices.clear();
  } else {
    for (const auto& device : *devices) client.devices.erase(device.str());
  }
  forget_uncovered(client);
}

bool LiveHub::send(ClientId id, std::string message) {
  std::lock_guard lock(mutex_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return false;
  if (push(*it->second, std::move(message))) return true;
  drop(id);
  return false;
}

void LiveHub::note_due(Client& client) {
  if (client.pending.empty()) {
    client.next_due = Clock::time_point::max();
    with_pending_.erase(client.id);
    return;
  }
  with_pending_.insert(client.id);
  if (client.next_due < earliest_due_) {
    earliest_due_ = client.next_due;
    wake_.notify_one();
  }
}

bool LiveHub::send_due(Client& client, const std::string& device, Clock::time_point now) {
  auto pending = client.pending.find(device);
  if (pending == client.pending.end()) return true;
  auto& states = client.series[device];
  // Values due now, grouped by timestamp: one message per timestamp keeps each value's own time.
  std::map<std::int64_t, std::vector<std::pair<std::string, double>>> due;
  std::vector<std::string> waiting;
  for (const auto& key : pending->second) {
    auto& state = states[key];
    if (!state.pending) continue;
    if (state.last_sent == Clock::time_point::min() || now - state.last_sent >= options_.min_interval) {
      due[state.pending_ts].emplace_back(key, state.pending_value);
      state.pending = false;
      state.last_sent = now;
      state.sent_ts = state.pending_ts;
    } else {
      client.next_due = std::min(client.next_due, state.last_sent + options_.min_interval);
      waiting.push_back(key);
    }
  }
  if (waiting.empty()) {
    client.pending.erase(pending);
  } else {
    pending->second = std::move(waiting);
  }
  for (auto& [ts, values] : due) {
    std::sort(values.begin(), values.end());
    if (!push(client, reading_message(device, ts, values))) return false;
  }
  return true;
}

void LiveHub::publish(const tsdb::DeviceBatch& batch) {
  std::lock_guard lock(mutex_);
  auto factory = by_factory_.find(batch.factory);
  if (factory == by_factory_.end()) return;
  const std::string& device = batch.device.str();
  const auto at = now();
  std::vector<ClientId> too_slow;
  for (Client* client : factory->second) {
    if (!client->covers_device(device)) continue;
    auto& states = client->series[device];
    bool changed = false;
    for (const auto& reading : batch.readings) {
      for (const auto& field : reading.fields) {
        if (!client->covers(device, field.key)) continue;
        auto& state = states[field.key];
        // A live series only moves forward: late points are history, not news.
        if (reading.ts_ms < state.sent_ts) continue;
        if (state.pending && reading.ts_ms < state.pending_ts) continue;
        if (!state.pending) {
          state.pending = true;
          client->pending[device].push_back(field.key);
        }
        state.pending_ts = reading.ts_ms;
        state.pending_value = field.value;
        changed = true;
      }
    }
    if (!changed) continue;
    if (!send_due(*client, device, at)) {
      too_slow.push_back(client->id);
      continue;
    }
    note_due(*client);
  }
  for (ClientId id : too_slow) drop(id);
}

void LiveHub::publish_status(const core::FactoryId& factory_id, const core::DeviceId& device, bool online,
                             std::int64_t last_seen_ms) {
  std::lock_guard lock(mutex_);
  auto factory = by_factory_.find(factory_id);
  if (factory == by_factory_.end()) return;
  std::optional<std::string> message;
  std::vector<ClientId> too_slow;
  for (Client* client : factory->second) {
    if (!client->covers_device(device.str())) continue;
    if (!message) message = status_message(device.str(), online, last_seen_ms);
    if (!push(*client, *message)) too_slow.push_back(client->id);
  }
  for (ClientId id : too_slow) drop(id);
}

void LiveHub::publish_to_factory(const core::FactoryId& factory_id, const std::string& message) {
  std::lock_guard lock(mutex_);
  auto factory = by_factory_.find(factory_id);
  if (factory == by_factory_.end()) return;
  std::vector<ClientId> too_slow;
  for (Client* client : factory->second) {
    if (!push(*client, message)) too_slow.push_back(client->id);
  }
  for (ClientId id : too_slow) drop(id);
}

void LiveHub::flush_due() {
  std::lock_guard lock(mutex_);
  const auto at = now();
  earliest_due_ = Clock::time_point::max();
  std::vector<ClientId> too_slow;
  const std::vector<ClientId> ids(with_pending_.begin(), with_pending_.end());
  for (ClientId id : ids) {
    auto it = clients_.find(id);
    if (it == clients_.end()) {
      with_pending_.erase(id);
      continue;
    }
    Client& client = *it->second;
    if (client.next_due > at) {
      earliest_due_ = std::min(earliest_due_, client.next_due);
      continue;
    }
    client.next_due = Clock::time_point::max();
    std::vector<std::string> devices;
    devices.reserve(client.pending.size());
    for (const auto& [device, keys] : client.pending) devices.push_back(device);
    bool ok = true;
    for (const auto& device : devices) {
      if (!send_due(client, device, at)) {
        ok = false;
        break;
      }
    }
    if (!ok) {
      too_slow.push_back(id);
      continue;
    }
    note_due(client);
  }
  for (ClientId id : too_slow) drop(id);
}

void LiveHub::flush_loop(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (earliest_due_ == Clock::time_point::max()) {
      wake_.wait(lock, stop, [this] { return earliest_due_ != Clock::time_point::max(); });
    } else {
      // The flush thread runs on the real clock even when tests give the hub another one.
      const auto until = earliest_due_;
      wake_.wait_until(lock, stop, until, [this, until] { return earliest_due_ < until; });
    }
    if (stop.stop_requested()) break;
    if (earliest_due_ > Clock::now()) continue;
    lock.unlock();
    flush_due();
    lock.lock();
  }
}

std::size_t LiveHub::client_count() const {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

}  // namespace factoryops::live
