// A TelemetryStore test double for the query service and the retention scheduler: series in
// memory, sub-day buckets aligned to UTC, every call recorded. Not thread-safe beyond one
// mutex around everything; test-only.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "core/errors.hpp"
#include "tsdb/store.hpp"

namespace factoryops::tsdb::testing {

class StoreDouble : public TelemetryStore {
 public:
  std::string_view engine() const override { return "double"; }

  void write(std::span<const DeviceBatch> batches) override {
    std::lock_guard lock(mutex_);
    for (const auto& b : batches)
      for (const auto& r : b.readings)
        for (const auto& f : r.fields) data_[{b.factory.str(), b.device.str(), f.key}][r.ts_ms] = f.value;
  }

  // `count` points every `step_ms` from `from_ms`, value = index.
  void fill(const std::string& factory, const std::string& device, const std::string& metric,
            std::int64_t from_ms, std::int64_t step_ms, int count) {
    std::lock_guard lock(mutex_);
    auto& series = data_[{factory, device, metric}];
    for (int i = 0; i < count; ++i) series[from_ms + i * step_ms] = i;
  }

  std::vector<Series> read_raw(const RawQuery& q) override {
    std::lock_guard lock(mutex_);
    raw_queries.push_back(q);
    std::vector<Series> out;
    for (const auto& metric : q.metrics) {
      Series s{metric, {}};
      auto it = data_.find({q.factory.str(), q.device.str(), metric});
      if (it != data_.end()) {
        for (auto p = it->second.lower_bound(q.from_ms); p != it->second.end() && p->first < q.to_ms; ++p) {
          if (s.points.size() == q.limit) break;
          s.points.push_back({p->first, p->second});
        }
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  std::vector<Series> read_aggregate(const AggregateQuery& q) override {
    std::lock_guard lock(mutex_);
    aggregate_queries.push_back(q);
    std::vector<Series> out;
    for (const auto& metric : q.metrics) {
      Series s{metric, {}};
      auto it = data_.find({q.factory.str(), q.device.str(), metric});
      if (it != data_.end()) {
        std::map<std::int64_t, std::pair<double, int>> buckets;
        for (auto p = it->second.lower_bound(q.from_ms); p != it->second.end() && p->first < q.to_ms; ++p) {
          auto& b = buckets[p->first / q.interval_ms * q.interval_ms];
          b.first += p->second;
          b.second += 1;
        }
        for (const auto& [start, b] : buckets) s.points.push_back({start, b.first / b.second});
      }
      // A misbehaving engine for the clamp test.
      for (int i = 0; i < extra_buckets; ++i) s.points.push_back({q.to_ms + i * q.interval_ms, 0});
      out.push_back(std::move(s));
    }
    return out;
  }

  std::vector<LatestValue> latest(const core::FactoryId& factory, const core::DeviceId& device,
                                  std::span<const std::string> metrics) override {
    std::lock_guard lock(mutex_);
    std::vector<LatestValue> out;
    for (const auto& [key, points] : data_) {
      const auto& [f, d, m] = key;
      if (f != factory.str() || d != device.str() || points.empty()) continue;
      if (!metrics.empty() && std::find(metrics.begin(), metrics.end(), m) == metrics.end()) continue;
      out.push_back({m, points.rbegin()->first, points.rbegin()->second});
    }
    return out;
  }

  void apply_retention(const core::FactoryId& factory, const RetentionPolicy& policy,
                       std::int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    if (failing_factories.contains(factory.str()))
      throw core::Unavailable("engine down for " + factory.str());
    retention_calls.push_back({factory.str(), policy.raw_days, policy.rollup_days, now_ms});
  }

  StorageUsage usage(const core::FactoryId& factory) override {
    std::lock_guard lock(mutex_);
    StorageUsage u;
    u.bytes = 4096;
    for (const auto& [key, points] : data_) u.series += std::get<0>(key) == factory.str() ? 1 : 0;
    return u;
  }

  StoreStatus status() override { return {}; }
  void flush() override {}

  struct RetentionCall {
    std::string factory;
    int raw_days = 0;
    int rollup_days = 0;
    std::int64_t now_ms = 0;
  };

  std::vector<RetentionCall> retention_snapshot() {
    std::lock_guard lock(mutex_);
    return retention_calls;
  }

  std::vector<RawQuery> raw_queries;
  std::vector<AggregateQuery> aggregate_queries;
  std::vector<RetentionCall> retention_calls;
  std::set<std::string> failing_factories;
  int extra_buckets = 0;

 private:
  std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, std::string>, std::map<std::int64_t, double>> data_;
};

}  // namespace factoryops::tsdb::testing
