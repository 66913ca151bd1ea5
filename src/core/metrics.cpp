#include "core/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace factoryops::core::metrics {
namespace {

void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    // Shortest round-trip form: 1 prints as "1", 0.005 as "0.005".
    auto result = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, result.ptr);
  }
}

void append_number(std::string& out, std::uint64_t value) {
  char buf[24];
  auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  return valid_metric_name(name) && name.find(':') == std::string_view::npos && !name.starts_with("__");
}

std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void append_header(std::string& out, const FamilyBase& family) {
  out += "# HELP ";
  out += family.name();
  out += ' ';
  out += escape_help(family.help());
  out += "\n# TYPE ";
  out += family.name();
  out += ' ';
  out += family.type();
  out += '\n';
}

// `{a="x",b="y"` without the closing brace, so a histogram can add its `le` label.
void append_labels_open(std::string& out, const std::vector<std::string>& names,
                        const std::vector<std::string>& values) {
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
}

void append_sample(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& values, double value) {
  out += name;
  if (!label_names.empty()) {
    append_labels_open(out, label_names, values);
    out += '}';
  }
  out += ' ';
  append_number(out, value);
  out += '\n';
}

template <typename A, typename B>
bool lexicographic_less(std::span<A> a, std::span<B> b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](std::string_view x, std::string_view y) { return x < y; });
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Counter::inc(double by) {
  if (by > 0) value_.fetch_add(by, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    throw std::invalid_argument("histogram bounds must be strictly increasing");
  }
  for (double b : bounds_) {
    if (!std::isfinite(b)) throw std::invalid_argument("histogram bounds must be finite");
  }
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
}

void Histogram::observe(double value) {
  // Buckets are "less than or equal": a value on a bound belongs to that bound's bucket.
  auto index =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  snap.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snap.cumulative.push_back(running);
  }
  // The count is derived from the buckets so that `_count` always equals the +Inf bucket.
  snap.count = running;
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

std::vector<double> default_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

bool LabelValuesLess::operator()(std::span<const std::string> a, std::span<const std::string> b) const {
  return lexicographic_less(a, b);
}
bool LabelValuesLess::operator()(std::span<const std::string> a, std::span<const std::string_view> b) const {
  return lexicographic_less(a, b);
}
bool LabelValuesLess::operator()(std::span<const std::string_view> a, std::span<const std::string> b) const {
  return lexicographic_less(a, b);
}

template <typename Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::function<std::unique_ptr<Metric>()> make)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names)), make_(std::move(make)) {
  // A family without labels has exactly one series; creating it now makes it visible at 0.
  if (this->label_names().empty()) series_.emplace(std::vector<std::string>{}, make_());
}

template <typename Metric>
Metric& Family<Metric>::labels(std::initializer_list<std::string_view> values) {
  return labels(std::span<const std::string_view>(values.begin(), values.size()));
}

template <typename Metric>
Metric& Family<Metric>::labels(std::span<const std::string_view> values) {
  if (values.size() != label_names().size()) {
    throw std::invalid_argument("metric " + name() + " takes " + std::to_string(label_names().size()) +
                                " label values, got " + std::to_string(values.size()));
  }
  {
    std::shared_lock lock(mutex_);
    auto it = series_.find(values);
    if (it != series_.end()) return *it->second;
  }
  std::unique_lock lock(mutex_);
  auto it = series_.find(values);
  if (it != series_.end()) return *it->second;
  std::vector<std::string> key(values.begin(), values.end());
  return *series_.emplace(std::move(key), make_()).first->second;
}

template <>
std::string_view Family<Counter>::type() const {
  return "counter";
}
template <>
std::string_view Family<Gauge>::type() const {
  return "gauge";
}
template <>
std::string_view Family<Histogram>::type() const {
  return "histogram";
}

template <>
void Family<Counter>::expose(std::string& out) const {
  append_header(out, *this);
  std::shared_lock lock(mutex_);
  for (const auto& [values, counter] : series_)
    append_sample(out, name(), label_names(), values, counter->value());
}

template <>
void Family<Gauge>::expose(std::string& out) const {
  append_header(out, *this);
  std::shared_lock lock(mutex_);
  for (const auto& [values, gauge] : series_)
    append_sample(out, name(), label_names(), values, gauge->value());
}

template <>
void Family<Histogram>::expose(std::string& out) const {
  append_header(out, *this);
  std::shared_lock lock(mutex_);
  for (const auto& [values, histogram] : series_) {
    auto snap = histogram->snapshot();
    const auto& bounds = histogram->upper_bounds();
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
      out += name();
      out += "_bucket";
      append_labels_open(out, label_names(), values);
      out += label_names().empty() ? "le=\"" : ",le=\"";
      append_number(out, i < bounds.size() ? bounds[i] : HUGE_VAL);
      out += "\"} ";
      append_number(out, snap.cumulative[i]);
      out += '\n';
    }
    append_sample(out, name() + "_sum", label_names(), values, snap.sum);
    out += name();
    out += "_count";
    if (!label_names().empty()) {
      append_labels_open(out, label_names(), values);
      out += '}';
    }
    out += ' ';
    append_number(out, snap.count);
    out += '\n';
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry& Registry::global() {
  static Registry registry;
  return registry;
}

template <typename Metric>
Family<Metric>& Registry::get_or_add(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names,
                                     std::function<std::unique_ptr<Metric>()> make) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + name);
  for (const auto& label : label_names) {
    if (!valid_label_name(label))
      throw std::invalid_argument("invalid label name for " + name + ": " + label);
  }
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<Family<Metric>*>(it->second.get());
    if (existing == nullptr || existing->label_names() != label_names) {
      throw std::invalid_argument("metric " + name + " is already registered with another type or labels");
    }
    return *existing;
  }
  auto family = std::make_unique<Family<Metric>>(name, help, std::move(label_names), std::move(make));
  auto& ref = *family;
  families_.emplace(name, std::move(family));
  return ref;
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names) {
  return get_or_add<Counter>(name, help, std::move(label_names), [] { return std::make_unique<Counter>(); });
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names) {
  return get_or_add<Gauge>(name, help, std::move(label_names), [] { return std::make_unique<Gauge>(); });
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names, std::vector<double> upper_bounds) {
  if (std::find(label_names.begin(), label_names.end(), "le") != label_names.end()) {
    throw std::invalid_argument("histogram " + name + " cannot use the label name le");
  }
  // Validate the bounds now rather than on the first labels() call.
  Histogram probe(upper_bounds);
  return get_or_add<Histogram>(name, help, std::move(label_names), [bounds = std::move(upper_bounds)] {
    return std::make_unique<Histogram>(bounds);
  });
}

std::string Registry::expose() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) family->expose(out);
  return out;
}

namespace {

void append_process_metric(std::string& out, std::string_view name, std::string_view type,
                           std::string_view help, double value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  append_number(out, value);
  out += '\n';
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

}  // namespace

std::string process_metrics() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream fields(stat.substr(close + 1));
  std::vector<std::string> tokens;
  for (std::string token; fields >> token;) tokens.push_back(std::move(token));
  // tokens[0] is field 3 (state); field N is tokens[N - 3].
  if (tokens.size() < 22) return {};
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  double utime = std::stod(tokens[11]);
  double stime = std::stod(tokens[12]);
  double start_ticks = std::stod(tokens[19]);
  double vsize = std::stod(tokens[20]);
  double rss_pages = std::stod(tokens[21]);

  double open_fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++open_fds;
    }
    closedir(dir);
    open_fds -= 1;  // the descriptor opendir itself holds
  }
  rlimit limit{};
  double max_fds = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? static_cast<double>(limit.rlim_cur) : 0;

  std::string out;
  append_process_metric(out, "process_cpu_seconds_total", "counter",
                        "Total user and system CPU time spent in seconds.", (utime + stime) / ticks);
  append_process_metric(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", max_fds);
  append_process_metric(out, "process_open_fds", "gauge", "Number of open file descriptors.", open_fds);
  append_process_metric(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                        rss_pages * page);
  append_process_metric(out, "process_start_time_seconds", "gauge",
                        "Start time of the process since unix epoch in seconds.",
                        boot_time_seconds() + start_ticks / ticks);
  append_process_metric(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize);
  return out;
}

}  // namespace factoryops::core::metrics
