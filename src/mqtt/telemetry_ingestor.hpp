// The telemetry role's MQTT side (HLD §2, §11): one persistent-session subscription in the
// shared group "factoryops-ingest" to every factory's telemetry and status topics. The network
// thread appends each message to the ingest log (so it survives kill -9) and only then lets
// the broker have its acknowledgement; a processor thread checks the topic's device, feeds
// readings to the ingest pipeline in batches, applies status messages, and releases the log.
// While the store is unavailable the processor retries and the broker holds what is not yet
// taken (back-pressure), so no acknowledged reading is lost. Start once, stop once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ingest/device_directory.hpp"
#include "ingest/discovery.hpp"
#include "ingest/pipeline.hpp"
#include "mqtt/client.hpp"
#include "mqtt/ingest_log.hpp"
#include "mqtt/topics.hpp"

namespace factoryops::mqtt {

struct TelemetryIngestorOptions {
  BrokerAddress broker{};
  std::string username;
  std::string password;
  std::string client_id;  // stable per replica: the broker keeps its session across restarts
  // The shared-subscription group; empty: a plain subscription (one replica only).
  std::string share_group{kShareGroup};
  std::filesystem::path log_directory;
  std::chrono::milliseconds group_commit{200};
  std::size_t queue_capacity = 20'000;  // messages taken but not yet stored; more wait in the broker
  std::size_t batch_messages = 1'000;   // messages per store write at most
};

// A device reported online/offline: (factory, device, online, at_ms). Called on the processor thread.
using StatusListener =
    std::function<void(const core::FactoryId&, const core::DeviceId&, bool online, std::int64_t at_ms)>;

struct IngestorStats {
  std::uint64_t received = 0;  // messages taken from the broker
  std::uint64_t stored = 0;    // telemetry messages handed to the pipeline and stored
  std::uint64_t rejected = 0;  // bad topic, unknown or disabled device, bad status payload
  std::uint64_t replayed = 0;  // records of an earlier run stored at start
  std::size_t queued = 0;
  bool connected = false;
};

class TelemetryIngestor {
 public:
  TelemetryIngestor(TelemetryIngestorOptions options, ingest::IngestPipeline& pipeline,
                    ingest::DeviceDirectory& devices, ingest::ParameterDiscovery* discovery);
  ~TelemetryIngestor();
  TelemetryIngestor(const TelemetryIngestor&) = delete;
  TelemetryIngestor& operator=(const TelemetryIngestor&) = delete;

  void on_status(StatusListener listener) { status_listener_ = std::move(listener); }

  // Stores what an earlier run left in the log, then connects and subscribes (in the background:
  // an unreachable broker is retried forever). Throws core::Unavailable when the log cannot open.
  void start();
  // Disconnects, stores what was taken, syncs the log.
  void stop();

  IngestorStats stats() const;
  bool connected() const { return client_ && client_->connected(); }

 private:
  void take(const Message& message);
  void process(std::stop_token stop);
  void store_batch(std::deque<LogRecord>& batch);

  const TelemetryIngestorOptions options_;
  ingest::IngestPipeline& pipeline_;
  ingest::DeviceDirectory& devices_;
  ingest::ParameterDiscovery* discovery_;
  StatusListener status_listener_;

  std::unique_ptr<IngestLog> log_;
  std::unique_ptr<Client> client_;

  mutable std::mutex mutex_;
  std::condition_variable_any has_work_;
  std::condition_variable_any has_room_;
  std::deque<LogRecord> queue_;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> stored_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> replayed_{0};
  std::atomic<bool> stopping_{false};
  std::jthread processor_;  // last
};

// "factoryops-telemetry-<host>-<hash of the data directory>": stable across restarts of one
// replica, different for two replicas on one host.
std::string default_ingest_client_id(const std::filesystem::path& data_dir);

}  // namespace factoryops::mqtt
