// The ingest pipeline, shared by every transport (HTTP now, MQTT next): parse and validate a
// message, write its readings to the telemetry store as one DeviceBatch (durable on return),
// note its keys for parameter discovery, record rejections, and hand the batch on to listeners
// (the rule engine) through a bounded queue that never blocks ingestion. Thread-safe: ingest()
// runs on many threads at once. The store, discovery and rejection log must outlive it; the
// destructor delivers what is queued to listeners and stops its thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "ingest/discovery.hpp"
#include "ingest/payload.hpp"
#include "ingest/rejection_log.hpp"
#include "tsdb/store.hpp"

namespace factoryops::ingest {

constexpr std::size_t kMaxListedErrors = 20;

struct IngestOutcome {
  std::size_t accepted = 0;        // readings stored
  std::size_t rejected = 0;        // readings (or the whole message, counted as 1) refused
  std::size_t dropped_fields = 0;  // fields dropped from stored readings
  std::size_t values = 0;          // points written
  // Reading rejections first, then dropped fields, at most kMaxListedErrors.
  std::vector<Issue> errors{};
  // Why nothing was stored (the message's reason, else the first reading's); set iff accepted == 0.
  std::optional<Issue> refused{};
};

// One message of a device, received at `now_ms`; the payload is only read during the call.
struct IngestMessage {
  core::FactoryId factory;
  core::DeviceId device;
  std::string_view payload;
  std::int64_t now_ms = 0;
};

using BatchListener = std::function<void(const tsdb::DeviceBatch&)>;

class IngestPipeline {
 public:
  struct Options {
    std::size_t listener_queue = 1024;  // batches waiting for listeners; more are dropped (counted)
  };

  // `discovery` and `rejections` may be null (benchmarks, tests of the store path).
  IngestPipeline(tsdb::TelemetryStore& store, ParameterDiscovery* discovery, RejectionLog* rejections);
  IngestPipeline(tsdb::TelemetryStore& store, ParameterDiscovery* discovery, RejectionLog* rejections,
                 Options options);
  ~IngestPipeline();
  IngestPipeline(const IngestPipeline&) = delete;
  IngestPipeline& operator=(const IngestPipeline&) = delete;

  // Adds a consumer of stored batches; called on the pipeline's own thread, one batch at a time.
  // Add listeners while the application starts, before the first ingest().
  void add_listener(BatchListener listener);

  // One message of the device, received at `now_ms`. Throws core::Unavailable when the store
  // could not make the readings durable (nothing of the message is acknowledged then).
  IngestOutcome ingest(const core::FactoryId& factory, const core::DeviceId& device, std::string_view payload,
                       std::int64_t now_ms);

  // Many messages at once, written to the store in one call (what MQTT ingestion does). One
  // outcome per message, in order. Throws core::Unavailable when the store could not make the
  // readings durable; then none of these messages is acknowledged.
  std::vector<IngestOutcome> ingest_many(std::span<const IngestMessage> messages);

  // Batches waiting for listeners.
  std::size_t queued_batches() const;

 private:
  void dispatch(std::stop_token stop);
  void record_rejections(const core::FactoryId& factory, const core::DeviceId& device,
                         const ParsedPayload& parsed, std::int64_t now_ms);

  tsdb::TelemetryStore& store_;
  ParameterDiscovery* discovery_;
  RejectionLog* rejections_;
  const Options options_;
  std::vector<BatchListener> listeners_;

  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<std::shared_ptr<const tsdb::DeviceBatch>> queue_;
  std::jthread dispatcher_;  // last
};

}  // namespace factoryops::ingest
