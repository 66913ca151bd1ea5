// In-house Prometheus registry: counter, gauge and histogram families with fixed label names,
// exposed in text format 0.0.4. Thread-safe: updates are lock-free atomics; labels() takes a
// shared lock. Families and series live as long as their Registry (the global one: forever),
// so references returned by labels() may be cached.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace factoryops::core::metrics {

class Counter {
 public:
  // `by` must be >= 0: counters only go up (negative values are ignored).
  void inc(double by = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void inc(double by = 1.0) { value_.fetch_add(by, std::memory_order_relaxed); }
  void dec(double by = 1.0) { value_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `upper_bounds` must be sorted ascending and finite; the +Inf bucket is implicit.
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double value);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0.0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& upper_bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0.0};
};

// The Prometheus client default buckets, 5 ms to 10 s.
std::vector<double> default_buckets();

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  virtual std::string_view type() const = 0;
  // Appends this family's HELP, TYPE and sample lines.
  virtual void expose(std::string& out) const = 0;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

// Lexicographic order over label values, usable with stored vectors and looked-up spans alike.
struct LabelValuesLess {
  using is_transparent = void;
  bool operator()(std::span<const std::string> a, std::span<const std::string> b) const;
  bool operator()(std::span<const std::string> a, std::span<const std::string_view> b) const;
  bool operator()(std::span<const std::string_view> a, std::span<const std::string> b) const;
};

template <typename Metric>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Metric>()> make);

  // The series for these label values (one per label name, in order), created on first use.
  // Throws std::invalid_argument when the count of values is wrong.
  Metric& labels(std::initializer_list<std::string_view> values);
  Metric& labels(std::span<const std::string_view> values);

  std::string_view type() const override;
  void expose(std::string& out) const override;

 private:
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::shared_mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>, LabelValuesLess> series_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The process-wide registry that /metrics exposes.
  static Registry& global();

  // Registering an existing name again with the same type and label names returns the existing
  // family; any other clash, or an invalid metric or label name, throws std::invalid_argument.
  CounterFamily& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names = {},
                             std::vector<double> upper_bounds = default_buckets());

  // Text exposition format 0.0.4, families sorted by name.
  std::string expose() const;

 private:
  template <typename Metric>
  Family<Metric>& get_or_add(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names,
                             std::function<std::unique_ptr<Metric>()> make);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds, read from /proc/self now.
// Empty when /proc is not readable.
std::string process_metrics();

// Escapes a label value for the text format: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

}  // namespace factoryops::core::metrics
