#include "tsdb/telemetry_query_service.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <functional>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "db/audit_repository.hpp"

namespace factoryops::tsdb {
namespace {
namespace json = boost::json;

// How the plan's reads reach the store: one call for a device's parameters, or one per device
// for the multi-device form. Each returns the series in the order of the answer.
struct SeriesReader {
  std::function<std::vector<Series>(std::size_t limit)> raw;
  std::function<std::vector<Series>(std::int64_t interval_ms)> aggregate;
};

// Store answers are bounded by the bucket count already; this only guards the max_points
// promise against an engine that disagrees about bucket edges.
void clamp(std::vector<Series>& series, std::size_t max_points) {
  for (auto& s : series) {
    if (s.points.size() <= max_points) continue;
    log::warn("telemetry store answered more buckets than planned",
              {{"metric", s.metric},
               {"points", static_cast<std::uint64_t>(s.points.size())},
               {"max_points", static_cast<std::uint64_t>(max_points)}});
    s.points.resize(max_points);
  }
}

const Series* first_over(const std::vector<Series>& series, std::size_t max_points) {
  for (const auto& s : series) {
    if (s.points.size() > max_points) return &s;
  }
  return nullptr;
}

TelemetryAnswer execute(const QueryPlan& plan, const std::string& timezone, const SeriesReader& read) {
  TelemetryAnswer answer;
  answer.from_ms = plan.from_ms;
  answer.to_ms = plan.to_ms;
  answer.timezone = timezone;

  auto aggregated = [&](std::int64_t interval_ms) {
    answer.interval_ms = interval_ms;
    answer.aggregate = plan.aggregate;
    answer.series = read.aggregate(interval_ms);
    clamp(answer.series, plan.max_points);
    return answer;
  };

  if (plan.mode == IntervalMode::kFixed) {
    check_bucket_count(plan.from_ms, plan.to_ms, plan.interval_ms, plan.max_points, timezone);
    return aggregated(plan.interval_ms);
  }

  // One point more than allowed tells whether the range holds too many, without reading them all.
  auto raw = read.raw(plan.max_points + 1);
  const Series* over = first_over(raw, plan.max_points);
  if (over == nullptr) {
    answer.series = std::move(raw);
    return answer;
  }
  if (plan.mode == IntervalMode::kRaw) {
    throw core::Invalid(
        "max_points", "the range holds more than " + std::to_string(plan.max_points) + " raw points of '" +
                          over->metric + "'; use interval=auto or an aggregate interval, or a shorter range");
  }
  auto interval = auto_interval(plan.from_ms, plan.to_ms, plan.max_points, timezone);
  if (!interval) {
    throw core::Invalid(
        "max_points",
        "the range needs " + std::to_string(bucket_count(plan.from_ms, plan.to_ms, kDayMs, timezone)) +
            " daily buckets, more than max_points (" + std::to_string(plan.max_points) +
            "); raise max_points (at most " + std::to_string(kMaxMaxPoints) + ") or shorten the range");
  }
  return aggregated(*interval);
}

json::value days_json(const std::optional<int>& days) {
  return days ? json::value(*days) : json::value(nullptr);
}

json::object override_json(const db::RetentionOverride& o) {
  return {{"raw_days", days_json(o.raw_days)}, {"rollup_days", days_json(o.rollup_days)}};
}

void check_days(std::string_view field, const std::optional<std::optional<int>>& days, int low, int high) {
  if (!days || !*days) return;
  if (**days < low || **days > high) {
    throw core::Invalid(std::string(field), "must be from " + std::to_string(low) + " to " +
                                                std::to_string(high) + " days, or null for the default");
  }
}

}  // namespace

RetentionPolicy effective_policy(const db::RetentionOverride& own, const RetentionPolicy& defaults) {
  return RetentionPolicy{own.raw_days.value_or(defaults.raw_days),
                         own.rollup_days.value_or(defaults.rollup_days)};
}

TelemetryQueryService::TelemetryQueryService(db::Database& db, TelemetryStore& store,
                                             RetentionPolicy defaults, std::function<std::int64_t()> now_ms)
    : db_(db), store_(store), defaults_(defaults), now_ms_(std::move(now_ms)), factories_(db), devices_(db) {}

std::int64_t TelemetryQueryService::now() const {
  if (now_ms_) return now_ms_();
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

core::DeviceId TelemetryQueryService::existing_device(const auth::FactoryContext& context,
                                                      std::string_view device_id) {
  // A text that is not a slug names no device, in this factory or any other.
  if (!core::is_valid_slug(device_id)) throw core::NotFound("device not found");
  core::DeviceId id(device_id);
  if (!devices_.find(context.factory_id, id)) throw core::NotFound("device '" + id.str() + "' not found");
  return id;
}

std::string TelemetryQueryService::timezone_of(const core::FactoryId& factory) {
  auto found = factories_.find(factory);
  return found ? found->timezone : std::string("UTC");
}

TelemetryAnswer TelemetryQueryService::query(const auth::FactoryContext& context, std::string_view device_id,
                                             const QueryPlan& plan) {
  context.require(auth::Action::view_machines);
  const core::DeviceId device = existing_device(context, device_id);
  std::vector<std::string> metrics = plan.params;
  if (metrics.empty()) {
    for (const auto& parameter : devices_.list_parameters(context.factory_id, device)) {
      if (parameter.is_kpi_selected) metrics.push_back(parameter.parameter_key);
    }
    if (metrics.size() > kMaxQueryParams) metrics.resize(kMaxQueryParams);
  }
  const std::string timezone = timezone_of(context.factory_id);
  if (metrics.empty()) {
    TelemetryAnswer empty;
    empty.from_ms = plan.from_ms;
    empty.to_ms = plan.to_ms;
    empty.timezone = timezone;
    return empty;
  }

  SeriesReader reader;
  reader.raw = [&](std::size_t limit) {
    return store_.read_raw(RawQuery{context.factory_id, device, metrics, plan.from_ms, plan.to_ms, limit});
  };
  reader.aggregate = [&](std::int64_t interval_ms) {
    return store_.read_aggregate(AggregateQuery{context.factory_id, device, metrics, plan.from_ms, plan.to_ms,
                                                interval_ms, plan.aggregate, timezone});
  };
  return execute(plan, timezone, reader);
}

TelemetryAnswer TelemetryQueryService::query_devices(const auth::FactoryContext& context,
                                                     std::span<const std::string> device_ids,
                                                     std::string_view param, const QueryPlan& plan) {
  context.require(auth::Action::view_machines);
  if (device_ids.empty()) throw core::Invalid("devices", "name at least one machine");
  if (device_ids.size() > kMaxQueryDevices) {
    throw core::Invalid("devices", "at most " + std::to_string(kMaxQueryDevices) + " machines");
  }
  if (!is_valid_metric_key(param)) {
    throw core::Invalid("param", "must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' or '-'");
  }
  std::vector<core::DeviceId> devices;
  for (const auto& id : device_ids) devices.push_back(existing_device(context, id));
  const std::vector<std::string> metrics{std::string(param)};
  const std::string timezone = timezone_of(context.factory_id);

  // Each device's answer holds the one parameter; renamed to the device for the caller.
  auto per_device = [&](auto&& read_one) {
    std::vector<Series> out;
    out.reserve(devices.size());
    for (const auto& device : devices) {
      auto series = read_one(device);
      Series s;
      s.metric = device.str();
      if (!series.empty()) s.points = std::move(series.front().points);
      out.push_back(std::move(s));
    }
    return out;
  };
  SeriesReader reader;
  reader.raw = [&](std::size_t limit) {
    return per_device([&](const core::DeviceId& device) {
      return store_.read_raw(RawQuery{context.factory_id, device, metrics, plan.from_ms, plan.to_ms, limit});
    });
  };
  reader.aggregate = [&](std::int64_t interval_ms) {
    return per_device([&](const core::DeviceId& device) {
      return store_.read_aggregate(AggregateQuery{context.factory_id, device, metrics, plan.from_ms,
                                                  plan.to_ms, interval_ms, plan.aggregate, timezone});
    });
  };
  return execute(plan, timezone, reader);
}

std::vector<LatestValue> TelemetryQueryService::latest(const auth::FactoryContext& context,
                                                       std::string_view device_id,
                                                       std::span<const std::string> params) {
  context.require(auth::Action::view_machines);
  const core::DeviceId device = existing_device(context, device_id);
  return store_.latest(context.factory_id, device, params);
}

StorageReport TelemetryQueryService::storage(const auth::FactoryContext& context) {
  context.require(auth::Action::manage_factory);
  auto own = factories_.retention(context.factory_id);
  if (!own) throw core::NotFound("factory not found");
  StorageReport report;
  report.engine = std::string(store_.engine());
  report.usage = store_.usage(context.factory_id);
  report.retention = effective_policy(*own, defaults_);
  report.defaults = defaults_;
  report.overridden = own->raw_days.has_value() || own->rollup_days.has_value();
  return report;
}

StorageReport TelemetryQueryService::update_retention(const auth::FactoryContext& context,
                                                      const RetentionChange& change) {
  context.require(auth::Action::manage_factory);
  check_days("raw_days", change.raw_days, kMinRawRetentionDays, kMaxRawRetentionDays);
  check_days("rollup_days", change.rollup_days, kMinRollupRetentionDays, kMaxRollupRetentionDays);
  if (change.raw_days || change.rollup_days) {
    auto conn = db_.acquire();
    db::Transaction tx(*conn);
    auto before = db::FactoryRepository::retention(*conn, context.factory_id);
    if (!before) throw core::NotFound("factory not found");
    db::RetentionOverride after = *before;
    if (change.raw_days) after.raw_days = *change.raw_days;
    if (change.rollup_days) after.rollup_days = *change.rollup_days;
    db::FactoryRepository::set_retention(*conn, context.factory_id, after);
    db::AuditEntry entry;
    if (context.user_id > 0) entry.user_id = context.user_id;
    entry.action = "telemetry.retention_changed";
    entry.resource_type = "factory";
    entry.resource_id = context.factory_id.str();
    entry.details_json =
        json::serialize(json::object{{"before", override_json(*before)}, {"after", override_json(after)}});
    if (!context.request_id.empty()) entry.request_id = context.request_id;
    if (!context.ip.empty()) entry.ip = context.ip;
    db::AuditRepository::record(*conn, context.factory_id, entry);
    tx.commit();
    const RetentionPolicy policy = effective_policy(after, defaults_);
    log::info("telemetry retention changed", {{"factory_id", context.factory_id.str()},
                                              {"raw_days", policy.raw_days},
                                              {"rollup_days", policy.rollup_days}});
  }
  return storage(context);
}

std::vector<std::pair<core::FactoryId, RetentionPolicy>> TelemetryQueryService::policies() {
  std::vector<std::pair<core::FactoryId, RetentionPolicy>> out;
  for (auto& [id, own] : factories_.list_retention()) out.emplace_back(id, effective_policy(own, defaults_));
  return out;
}

}  // namespace factoryops::tsdb
