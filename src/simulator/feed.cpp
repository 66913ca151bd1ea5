#include "simulator/feed.hpp"

#include <algorithm>
#include <charconv>

namespace factoryops::simulator {
namespace {

void append_double(std::string& out, double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, ec == std::errc() ? end : buffer);
}

MachineProfile profile_of(std::uint64_t seed, std::size_t index) {
  MachineProfile profile;
  // Machines differ in size; the seed decides, so runs are repeatable.
  profile.rated_kw = 15.0 + static_cast<double>((seed * 7919 + index * 104729) % 85);
  return profile;
}

}  // namespace

MachineFeed::MachineFeed(const FeedOptions& options, std::size_t index, std::int64_t start_ms)
    : options_(options),
      model_(options.seed * 1'000'003ULL + index, profile_of(options.seed, index)),
      step_ms_(options.rate_hz > 0
                   ? std::max<std::int64_t>(1, static_cast<std::int64_t>(1000.0 / options.rate_hz))
                   : 1000),
      // Paced runs send a batch when its last reading is due, so no reading lies in the future;
      // load runs replay the last 30 days at 1 s steps, ahead of the clock.
      next_ts_ms_(options.rate_hz > 0 ? start_ms - (options.batch - 1) * step_ms_
                                      : start_ms - 30 * tsdb::kDayMs) {}

std::size_t MachineFeed::next(std::vector<tsdb::Reading>& out, std::int64_t now_ms) {
  out.clear();
  std::size_t values = 0;
  for (int i = 0; i < options_.batch; ++i) {
    out.push_back(model_.sample(next_ts_ms_));
    if (options_.sequence)
      out.back().fields.push_back(tsdb::Field{kSequenceKey, static_cast<double>(sequence_++)});
    values += out.back().fields.size();
    next_ts_ms_ += step_ms_;
  }
  // As fast as possible: simulated time runs ahead of the clock; stay inside the accepted window.
  if (options_.rate_hz == 0 && next_ts_ms_ > now_ms) next_ts_ms_ = now_ms - 30 * tsdb::kDayMs;
  return values;
}

void append_reading_json(std::string& out, const tsdb::Reading& reading) {
  out += "{\"ts\":";
  out += std::to_string(reading.ts_ms);
  for (const auto& field : reading.fields) {
    out += ",\"";
    out += field.key;  // model keys need no escaping
    out += "\":";
    append_double(out, field.value);
  }
  out.push_back('}');
}

std::string readings_json(std::span<const tsdb::Reading> readings) {
  std::string out;
  out.reserve(readings.size() * 320);
  out.push_back('[');
  for (std::size_t i = 0; i < readings.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_reading_json(out, readings[i]);
  }
  out.push_back(']');
  return out;
}

std::string payload_json(std::span<const tsdb::Reading> readings) {
  if (readings.size() != 1) return readings_json(readings);
  std::string out;
  out.reserve(320);
  append_reading_json(out, readings.front());
  return out;
}

}  // namespace factoryops::simulator
