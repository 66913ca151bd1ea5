#include "mqtt/telemetry_ingestor.hpp"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <functional>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "mqtt/topics.hpp"

namespace factoryops::mqtt {

namespace {

namespace metrics = core::metrics;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

metrics::Counter& message_counter(std::string_view kind, std::string_view result) {
  static auto& family = metrics::Registry::global().counter(
      "mqtt_messages_total", "MQTT messages taken by the telemetry role, by topic kind and result",
      {"kind", "result"});
  return family.labels({std::string(kind), std::string(result)});
}

metrics::Gauge& queue_gauge() {
  static auto& gauge = metrics::Registry::global()
                           .gauge("mqtt_ingest_queue", "MQTT messages logged but not yet stored", {})
                           .labels({});
  return gauge;
}

metrics::Gauge& connected_gauge() {
  static auto& gauge =
      metrics::Registry::global()
          .gauge("mqtt_connected", "1 while the telemetry role is connected to the broker", {})
          .labels({});
  return gauge;
}

// Waits `delay` unless stop is requested; doubles it up to `cap`.
void back_off(const std::stop_token& stop, std::chrono::milliseconds& delay, std::chrono::milliseconds cap) {
  auto until = std::chrono::steady_clock::now() + delay;
  while (!stop.stop_requested() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  delay = std::min(cap, delay * 2);
}

}  // namespace

std::string default_ingest_client_id(const std::filesystem::path& data_dir) {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host = {'h', 'o', 's', 't'};
  std::error_code ec;
  auto absolute = std::filesystem::weakly_canonical(std::filesystem::absolute(data_dir), ec);
  auto hash = std::hash<std::string>{}(ec ? data_dir.string() : absolute.string());
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016zx", hash);
  std::string id =
      "factoryops-telemetry-" + std::string(host.data()).substr(0, 40) + "-" + std::string(suffix, 8);
  return id;
}

TelemetryIngestor::TelemetryIngestor(TelemetryIngestorOptions options, ingest::IngestPipeline& pipeline,
                                     ingest::DeviceDirectory& devices, ingest::ParameterDiscovery* discovery)
    : options_(std::move(options)), pipeline_(pipeline), devices_(devices), discovery_(discovery) {}

TelemetryIngestor::~TelemetryIngestor() {
  stop();
}

void TelemetryIngestor::start() {
  log_ = std::make_unique<IngestLog>(IngestLog::Options{options_.log_directory, options_.group_commit});
  std::size_t recovered = log_->recover([this](LogRecord&& record) { queue_.push_back(std::move(record)); });
  if (recovered > 0) {
    replayed_ = recovered;
    log::info("MQTT ingest log: storing messages left by the previous run", {{"messages", recovered}});
  }
  processor_ = std::jthread([this](std::stop_token stop) { process(stop); });

  ClientOptions client_options;
  client_options.client_id = options_.client_id;
  client_options.username = options_.username;
  client_options.password = options_.password;
  client_options.clean_start = false;  // the broker keeps our queue while we are away
  client_options.protocol = 4;
  // Back quickly after a broker restart: until it resubscribes, a shared group has no queue.
  client_options.reconnect_max = std::chrono::seconds(5);
  client_ = std::make_unique<Client>(options_.broker, client_options);
  client_->on_message([this](const Message& message) { take(message); });
  client_->on_connect([this](bool session_present) {
    client_->subscribe(subscription_filter(TopicKind::telemetry, options_.share_group), 1);
    client_->subscribe(subscription_filter(TopicKind::status, options_.share_group), 1);
    connected_gauge().set(1);
    log::info("MQTT telemetry subscription active",
              {{"client_id", options_.client_id}, {"session_present", session_present}});
  });
  client_->on_disconnect([this](int reason) {
    connected_gauge().set(0);
    // Our own disconnect at shutdown is not a lost connection.
    if (stopping_) {
      log::info("MQTT telemetry client disconnected");
      return;
    }
    log::warn("MQTT broker connection lost; reconnecting", {{"reason", reason_text(reason)}});
  });
  client_->start();
}

void TelemetryIngestor::take(const Message& message) {
  const std::int64_t received = now_ms();
  std::uint64_t sequence = 0;
  auto delay = std::chrono::milliseconds(100);
  bool logged = false;
  // The acknowledgement goes to the broker when this returns: the message must be logged first.
  while (true) {
    try {
      sequence = log_->append(received, message.topic, message.payload);
      break;
    } catch (const core::Unavailable& e) {
      if (!logged)
        log::error("MQTT ingest log cannot take messages; holding", {{"error", std::string_view(e.what())}});
      logged = true;
      if (stopping_) return;  // not logged: the broker sends it again to this session or another
      std::this_thread::sleep_for(delay);
      delay = std::min(std::chrono::milliseconds(5000), delay * 2);
    }
  }
  received_.fetch_add(1, std::memory_order_relaxed);
  std::unique_lock lock(mutex_);
  // Back-pressure: while the processor is behind, the broker holds the rest.
  has_room_.wait(lock, [this] { return queue_.size() < options_.queue_capacity || stopping_; });
  if (stopping_) return;  // logged: stored at the next start
  queue_.push_back(LogRecord{sequence, received, std::string(message.topic), std::string(message.payload)});
  lock.unlock();
  has_work_.notify_one();
}

void TelemetryIngestor::process(std::stop_token stop) {
  while (true) {
    std::deque<LogRecord> batch;
    {
      std::unique_lock lock(mutex_);
      has_work_.wait(lock, stop, [this] { return !queue_.empty(); });
      if (queue_.empty()) return;  // stop requested with nothing left
      while (!queue_.empty() && batch.size() < options_.batch_messages) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queue_gauge().set(static_cast<double>(queue_.size()));
    }
    has_room_.notify_all();
    auto delay = std::chrono::milliseconds(100);
    bool logged = false;
    while (true) {
      try {
        store_batch(batch);
        break;
      } catch (const core::Unavailable& e) {
        if (!logged)
          log::error("telemetry store unavailable; MQTT messages wait in the ingest log",
                     {{"error", std::string_view(e.what())}});
        logged = true;
        if (stop.stop_requested()) return;  // still in the log: stored at the next start
        back_off(stop, delay, std::chrono::milliseconds(5000));
      }
    }
    if (logged) log::info("telemetry store writable again; MQTT ingestion resumed");
    log_->release(batch.back().sequence);
  }
}

void TelemetryIngestor::store_batch(std::deque<LogRecord>& batch) {
  std::vector<ingest::IngestMessage> messages;
  messages.reserve(batch.size());
  std::uint64_t rejected = 0;
  for (const auto& record : batch) {
    auto topic = parse_device_topic(record.topic);
    if (!topic) {
      ++rejected;
      message_counter("unknown", "bad_topic").inc();
      continue;
    }
    auto state = devices_.state(topic->factory, topic->device);
    if (state == ingest::DeviceState::unknown || state == ingest::DeviceState::disabled) {
      ++rejected;
      message_counter(topic->kind == TopicKind::telemetry ? "telemetry" : "status",
                      state == ingest::DeviceState::unknown ? "unknown_device" : "disabled_device")
          .inc();
      continue;
    }
    if (topic->kind == TopicKind::status) {
      auto online = parse_status(record.payload);
      if (!online) {
        ++rejected;
        message_counter("status", "bad_payload").inc();
        continue;
      }
      if (discovery_ != nullptr)
        discovery_->set_status(topic->factory, topic->device, *online, record.received_ms);
      if (status_listener_) status_listener_(topic->factory, topic->device, *online, record.received_ms);
      message_counter("status", "applied").inc();
      continue;
    }
    messages.push_back(
        ingest::IngestMessage{topic->factory, topic->device, record.payload, record.received_ms});
  }
  if (!messages.empty()) {
    pipeline_.ingest_many(messages);  // payload problems are counted and kept by the pipeline
    message_counter("telemetry", "processed").inc(static_cast<double>(messages.size()));
  }
  stored_.fetch_add(messages.size(), std::memory_order_relaxed);
  rejected_.fetch_add(rejected, std::memory_order_relaxed);
}

void TelemetryIngestor::stop() {
  if (stopping_.exchange(true)) return;
  has_room_.notify_all();
  if (client_) client_->stop();
  connected_gauge().set(0);
  if (processor_.joinable()) {
    // Store what was taken before stopping the processor.
    {
      std::unique_lock lock(mutex_);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!queue_.empty() && std::chrono::steady_clock::now() < deadline) {
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        lock.lock();
      }
    }
    processor_.request_stop();
    processor_.join();
  }
  if (log_) log_->sync();
}

IngestorStats TelemetryIngestor::stats() const {
  IngestorStats stats;
  stats.received = received_.load();
  stats.stored = stored_.load();
  stats.rejected = rejected_.load();
  stats.replayed = replayed_.load();
  {
    std::lock_guard lock(mutex_);
    stats.queued = queue_.size();
  }
  stats.connected = connected();
  return stats;
}

}  // namespace factoryops::mqtt
