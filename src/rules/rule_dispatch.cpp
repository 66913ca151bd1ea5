#include "rules/rule_dispatch.hpp"

#include <boost/json.hpp>

#include <cmath>

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "http/request_id.hpp"
#include "rules/rule.hpp"

namespace factoryops::rules {
namespace json = boost::json;
namespace {

core::metrics::Counter& dropped_counter() {
  static auto& counter =
      core::metrics::Registry::global()
          .counter("rule_dispatch_dropped_readings_total",
                   "Stored readings not handed to the rule engine because its buffer was full")
          .labels({});
  return counter;
}

core::metrics::Counter& enqueued_counter() {
  static auto& counter = core::metrics::Registry::global()
                             .counter("rule_dispatch_jobs_total", "rules.evaluate jobs enqueued")
                             .labels({});
  return counter;
}

std::size_t readings_of(const std::vector<tsdb::DeviceBatch>& batches) {
  std::size_t n = 0;
  for (const auto& b : batches) n += b.readings.size();
  return n;
}

}  // namespace

std::string encode_batches(const std::vector<tsdb::DeviceBatch>& batches) {
  json::array devices;
  for (const auto& batch : batches) {
    json::array readings;
    for (const auto& reading : batch.readings) {
      json::object fields;
      for (const auto& field : reading.fields) fields[field.key] = field.value;
      readings.push_back(json::array{reading.ts_ms, std::move(fields)});
    }
    devices.push_back(json::object{{"id", batch.device.str()}, {"readings", std::move(readings)}});
  }
  return json::serialize(json::object{{"devices", std::move(devices)}});
}

std::vector<tsdb::DeviceBatch> decode_batches(const core::FactoryId& factory, std::string_view payload) {
  boost::system::error_code ec;
  json::value doc = json::parse(payload, ec);
  if (ec || !doc.is_object()) throw core::Invalid("payload", "must be a JSON object");
  const auto* devices = doc.as_object().if_contains("devices");
  if (!devices || !devices->is_array()) throw core::Invalid("payload.devices", "must be an array");
  std::vector<tsdb::DeviceBatch> out;
  for (const auto& entry : devices->as_array()) {
    const auto* id = entry.is_object() ? entry.as_object().if_contains("id") : nullptr;
    const auto* readings = entry.is_object() ? entry.as_object().if_contains("readings") : nullptr;
    if (!id || !id->is_string() || !core::is_valid_slug(std::string_view(id->as_string())))
      throw core::Invalid("payload.devices[].id", "must be a device id");
    if (!readings || !readings->is_array())
      throw core::Invalid("payload.devices[].readings", "must be an array");
    tsdb::DeviceBatch batch{factory, core::DeviceId(std::string_view(id->as_string())), {}};
    for (const auto& r : readings->as_array()) {
      if (!r.is_array() || r.as_array().size() != 2 || !r.as_array()[0].is_int64() ||
          !r.as_array()[1].is_object())
        throw core::Invalid("payload.devices[].readings[]", "must be [ts_ms, {metric: number}]");
      tsdb::Reading reading{r.as_array()[0].as_int64(), {}};
      for (const auto& field : r.as_array()[1].as_object()) {
        if (!field.value().is_number()) continue;
        double v = field.value().to_number<double>();
        if (!std::isfinite(v)) continue;
        reading.fields.push_back(tsdb::Field{std::string(field.key()), v});
      }
      batch.readings.push_back(std::move(reading));
    }
    out.push_back(std::move(batch));
  }
  return out;
}

RuleDispatcher::RuleDispatcher(queue::JobQueue& jobs, db::Database* rules_db)
    : RuleDispatcher(jobs, rules_db, Options{}) {}

RuleDispatcher::RuleDispatcher(queue::JobQueue& jobs, db::Database* rules_db, Options options)
    : jobs_(jobs), rules_db_(rules_db), options_(options) {
  reload_interest();
  thread_ = std::thread([this] { run(); });
}

void RuleDispatcher::reload_interest() {
  if (!rules_db_) return;
  std::map<std::string, Interest, std::less<>> loaded;
  try {
    auto conn = rules_db_->acquire();
    for (const auto& row : conn->query("SELECT factory_id, definition FROM rules WHERE is_enabled = 1")) {
      Interest& interest = loaded[row.get_string(0)];
      try {
        // The zone only matters to schedules, which do not change what a rule reads.
        Rule rule = parse_rule(row.get_string(1), "UTC");
        for (const auto& condition : rule.conditions) {
          if (condition.parameter.empty()) interest.any_reading = true;
        }
        for (auto& key : referenced_parameters(rule)) interest.parameters.insert(std::move(key));
      } catch (const std::exception&) {
        // The rule engine logs a rule that does not parse; it evaluates nothing for it either.
      }
    }
  } catch (const std::exception& e) {
    log::warn("rules not read; the rule engine gets what it got before",
              {{"error", std::string_view(e.what())}});
    std::lock_guard lock(mutex_);
    interest_loaded_ = std::chrono::steady_clock::now();
    return;
  }
  std::lock_guard lock(mutex_);
  interest_ = std::move(loaded);
  interest_loaded_ = std::chrono::steady_clock::now();
}

RuleDispatcher::~RuleDispatcher() {
  stop();
}

void RuleDispatcher::add(const tsdb::DeviceBatch& batch) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    const Interest* interest = nullptr;
    if (rules_db_) {
      auto it = interest_.find(batch.factory.str());
      if (it == interest_.end()) return;  // no enabled rule in this factory
      interest = &it->second;
    }
    tsdb::DeviceBatch wanted{batch.factory, batch.device, {}};
    for (const auto& reading : batch.readings) {
      tsdb::Reading kept{reading.ts_ms, {}};
      for (const auto& field : reading.fields) {
        if (!interest || interest->parameters.contains(field.key)) kept.fields.push_back(field);
      }
      if (!kept.fields.empty() || (interest && interest->any_reading))
        wanted.readings.push_back(std::move(kept));
    }
    if (wanted.readings.empty()) return;
    if (buffered_readings_ + wanted.readings.size() > options_.max_buffered_readings) {
      dropped_counter().inc(static_cast<double>(wanted.readings.size()));
      return;
    }
    buffered_readings_ += wanted.readings.size();
    buffered_[batch.factory.str()].push_back(std::move(wanted));
    if (buffered_readings_ < options_.max_readings_per_job) return;
  }
  wake_.notify_one();
}

void RuleDispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void RuleDispatcher::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, options_.interval,
                   [this] { return stopping_ || buffered_readings_ >= options_.max_readings_per_job; });
    const bool last = stopping_;
    if (!last && std::chrono::steady_clock::now() - interest_loaded_ >= options_.interest_refresh) {
      lock.unlock();
      reload_interest();
      lock.lock();
    }
    std::map<std::string, std::vector<tsdb::DeviceBatch>> packs;
    packs.swap(buffered_);
    buffered_readings_ = 0;
    lock.unlock();
    if (!packs.empty()) send(packs);
    lock.lock();
    // What could not be enqueued goes back in front of what arrived meanwhile.
    for (auto& [factory, batches] : packs) {
      auto& slot = buffered_[factory];
      buffered_readings_ += readings_of(batches);
      batches.insert(batches.end(), std::make_move_iterator(slot.begin()),
                     std::make_move_iterator(slot.end()));
      slot = std::move(batches);
    }
    if (last) {
      if (buffered_readings_ > 0)
        log::warn("rule evaluation not enqueued at shutdown", {{"readings", buffered_readings_}});
      return;
    }
  }
}

void RuleDispatcher::send(std::map<std::string, std::vector<tsdb::DeviceBatch>>& packs) {
  for (auto it = packs.begin(); it != packs.end();) {
    auto& batches = it->second;
    bool failed = false;
    // One job per max_readings_per_job readings, whole device batches each.
    std::size_t start = 0;
    while (start < batches.size()) {
      std::size_t end = start;
      std::size_t readings = 0;
      while (end < batches.size() &&
             (end == start || readings + batches[end].readings.size() <= options_.max_readings_per_job)) {
        readings += batches[end].readings.size();
        ++end;
      }
      std::vector<tsdb::DeviceBatch> chunk(
          std::make_move_iterator(batches.begin() + static_cast<long>(start)),
          std::make_move_iterator(batches.begin() + static_cast<long>(end)));
      try {
        jobs_.enqueue(queue::make_job(queue::kRuleEngineQueue, kEvaluateTask, it->first,
                                      http::generate_request_id(), encode_batches(chunk)));
        enqueued_counter().inc();
      } catch (const std::exception& e) {
        // Put the chunk back and keep the rest for the next round.
        std::move(chunk.begin(), chunk.end(), batches.begin() + static_cast<long>(start));
        log::warn("rule evaluation could not be enqueued; retrying", {{"error", std::string_view(e.what())}});
        batches.erase(batches.begin(), batches.begin() + static_cast<long>(start));
        failed = true;
        break;
      }
      start = end;
    }
    if (failed) {
      ++it;
    } else {
      it = packs.erase(it);
    }
  }
}

}  // namespace factoryops::rules
