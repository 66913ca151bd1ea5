#include "ingest/pipeline.hpp"

#include <array>
#include <chrono>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"

namespace factoryops::ingest {
namespace {
namespace metrics = core::metrics;

metrics::CounterFamily& messages_family() {
  static auto& family =
      metrics::Registry::global().counter("telemetry_messages_total",
                                          "Telemetry messages by result (accepted, partial, rejected, "
                                          "failed) and reason (none when all was stored)",
                                          {"result", "reason"});
  return family;
}

metrics::Counter& message_counter(std::string_view result, std::string_view reason) {
  return messages_family().labels({result, reason});
}

metrics::Counter& dropped_field_counter(Reason reason) {
  static auto& family = metrics::Registry::global().counter(
      "telemetry_fields_dropped_total", "Fields dropped from stored readings, by reason", {"reason"});
  return family.labels({reason_name(reason)});
}

metrics::Counter& points_counter() {
  static auto& counter =
      metrics::Registry::global()
          .counter("telemetry_points_written_total", "Values written to the telemetry store")
          .labels({});
  return counter;
}

metrics::Histogram& write_latency() {
  static auto& histogram =
      metrics::Registry::global()
          .histogram("telemetry_write_latency_seconds",
                     "Time to make one batch durable in the telemetry store", {},
                     {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
          .labels({});
  return histogram;
}

metrics::Counter& listener_drops() {
  static auto& counter = metrics::Registry::global()
                             .counter("ingest_listener_batches_dropped_total",
                                      "Stored batches not handed to listeners because their queue was full")
                             .labels({});
  return counter;
}

Rejection to_rejection(const Issue& issue, std::int64_t now_ms) {
  return Rejection{now_ms, std::string(reason_name(issue.reason)), issue.message, issue.payload_head};
}

}  // namespace

IngestPipeline::IngestPipeline(tsdb::TelemetryStore& store, ParameterDiscovery* discovery,
                               RejectionLog* rejections)
    : IngestPipeline(store, discovery, rejections, Options{}) {}

IngestPipeline::IngestPipeline(tsdb::TelemetryStore& store, ParameterDiscovery* discovery,
                               RejectionLog* rejections, Options options)
    : store_(store),
      discovery_(discovery),
      rejections_(rejections),
      options_(options),
      dispatcher_([this](std::stop_token stop) { dispatch(stop); }) {}

IngestPipeline::~IngestPipeline() {
  dispatcher_.request_stop();
  wake_.notify_all();
}

void IngestPipeline::add_listener(BatchListener listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

std::size_t IngestPipeline::queued_batches() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void IngestPipeline::record_rejections(const core::FactoryId& factory, const core::DeviceId& device,
                                       const ParsedPayload& parsed, std::int64_t now_ms) {
  if (rejections_ == nullptr) return;
  if (parsed.message_rejection) {
    rejections_->record(factory, device, to_rejection(*parsed.message_rejection, now_ms));
    return;
  }
  // Only the last kKeptPerDevice are kept, so a message never needs to queue more.
  std::size_t count = 0;
  for (const auto& issue : parsed.rejected_readings) {
    if (++count > kKeptPerDevice) break;
    rejections_->record(factory, device, to_rejection(issue, now_ms));
  }
}

IngestOutcome IngestPipeline::ingest(const core::FactoryId& factory, const core::DeviceId& device,
                                     std::string_view payload, std::int64_t now_ms) {
  const IngestMessage message{factory, device, payload, now_ms};
  return std::move(ingest_many(std::span<const IngestMessage>(&message, 1)).front());
}

std::vector<IngestOutcome> IngestPipeline::ingest_many(std::span<const IngestMessage> messages) {
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<IngestOutcome> outcomes(messages.size());
  std::vector<std::vector<KeySeen>> keys(messages.size());
  std::vector<std::size_t> batch_of(messages.size(), kNone);
  std::vector<tsdb::DeviceBatch> batches;
  batches.reserve(messages.size());

  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& message = messages[i];
    auto& outcome = outcomes[i];
    ParsedPayload parsed = parse_payload(message.payload, message.now_ms);
    if (parsed.message_rejection) {
      outcome.rejected = 1;
      outcome.refused = parsed.message_rejection;
      outcome.errors.push_back(*parsed.message_rejection);
      message_counter("rejected", reason_name(parsed.message_rejection->reason)).inc();
      record_rejections(message.factory, message.device, parsed, message.now_ms);
      continue;
    }
    outcome.accepted = parsed.readings.size();
    outcome.rejected = parsed.rejected_readings.size();
    outcome.dropped_fields = parsed.dropped_fields.size();
    outcome.values = parsed.value_count;
    for (const auto& issue : parsed.rejected_readings) {
      if (outcome.errors.size() == kMaxListedErrors) break;
      outcome.errors.push_back(issue);
    }
    for (const auto& issue : parsed.dropped_fields) {
      if (outcome.errors.size() == kMaxListedErrors) break;
      outcome.errors.push_back(issue);
    }
    for (const auto& issue : parsed.dropped_fields) dropped_field_counter(issue.reason).inc();
    record_rejections(message.factory, message.device, parsed, message.now_ms);

    if (parsed.readings.empty()) {
      outcome.refused = parsed.rejected_readings.front();
      message_counter("rejected", reason_name(outcome.refused->reason)).inc();
      continue;
    }
    if (!parsed.rejected_readings.empty()) {
      outcome.refused = parsed.rejected_readings.front();  // reported as "partial" below
    } else if (!parsed.dropped_fields.empty()) {
      outcome.refused = parsed.dropped_fields.front();
    }
    keys[i] = std::move(parsed.keys);
    batch_of[i] = batches.size();
    batches.push_back(tsdb::DeviceBatch{message.factory, message.device, std::move(parsed.readings)});
  }
  if (batches.empty()) return outcomes;

  const auto started = std::chrono::steady_clock::now();
  try {
    store_.write(batches);
  } catch (const core::Unavailable&) {
    message_counter("failed", "store_unavailable").inc(static_cast<double>(batches.size()));
    throw;
  }
  write_latency().observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  std::vector<std::shared_ptr<const tsdb::DeviceBatch>> stored;
  stored.reserve(batches.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (batch_of[i] == kNone) continue;
    auto& outcome = outcomes[i];
    points_counter().inc(static_cast<double>(outcome.values));
    if (outcome.refused) {
      message_counter("partial", reason_name(outcome.refused->reason)).inc();
      outcome.refused.reset();  // something was stored: not refused
    } else {
      message_counter("accepted", "none").inc();
    }
    if (discovery_ != nullptr)
      discovery_->observe(messages[i].factory, messages[i].device, keys[i], messages[i].now_ms);
    stored.push_back(std::make_shared<const tsdb::DeviceBatch>(std::move(batches[batch_of[i]])));
  }

  bool notify = false;
  {
    std::lock_guard lock(mutex_);
    if (!listeners_.empty()) {
      for (auto& batch : stored) {
        if (queue_.size() >= options_.listener_queue) {
          listener_drops().inc();
        } else {
          queue_.push_back(std::move(batch));
          notify = true;
        }
      }
    }
  }
  if (notify) wake_.notify_one();
  return outcomes;
}

void IngestPipeline::dispatch(std::stop_token stop) {
  while (true) {
    std::shared_ptr<const tsdb::DeviceBatch> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, stop, [this] { return !queue_.empty(); });
      if (queue_.empty()) return;  // stop requested and nothing left
      batch = std::move(queue_.front());
      queue_.pop_front();
    }
    // Listeners are fixed once ingestion runs, so they are read without the lock.
    for (const auto& listener : listeners_) {
      try {
        listener(*batch);
      } catch (const std::exception& e) {
        log::warn("a telemetry listener failed",
                  {{"device_id", batch->device.str()}, {"error", std::string_view(e.what())}});
      }
    }
  }
}

}  // namespace factoryops::ingest
