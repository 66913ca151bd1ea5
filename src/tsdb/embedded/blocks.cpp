#include "tsdb/embedded/blocks.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "tsdb/embedded/codec.hpp"

namespace factoryops::tsdb::embedded {
namespace {
// Exact sums of up to 7200 scaled integers of magnitude below 2^62.
__extension__ typedef __int128 WideSum;
}  // namespace

std::int64_t floor_to(std::int64_t ts, std::int64_t step) {
  std::int64_t q = ts / step;
  if (ts % step != 0 && ts < 0) --q;
  return q * step;
}

std::vector<std::uint8_t> encode_raw_block(const Columns& points) {
  std::vector<std::uint8_t> out;
  out.reserve(16 + points.size() * 2);
  put_varint(out, points.size());
  encode_timestamps(points.ts, out);
  encode_values(points.values, out);
  return out;
}

void decode_raw_block(std::span<const std::uint8_t> blob, Columns& out) {
  ByteReader in{blob.data(), blob.size(), 0};
  std::uint64_t count = get_varint(in);
  if (count > blob.size() * 8) throw std::runtime_error("corrupt block");
  decode_timestamps(in, count, out.ts);
  decode_values(in, count, out.values);
}

std::vector<Summary> minute_summaries(const Columns& points) {
  std::vector<Summary> out;
  std::optional<int> scale = decimal_scale(points.values);
  double factor = scale ? pow10(*scale) : 1.0;
  WideSum scaled_sum = 0;
  auto close = [&] {
    if (scale) out.back().sum = static_cast<double>(scaled_sum) / factor;
  };
  for (std::size_t i = 0; i < points.size(); ++i) {
    std::int64_t start = floor_to(points.ts[i], 60'000);
    double v = points.values[i];
    if (out.empty() || out.back().start != start) {
      if (!out.empty()) close();
      out.push_back(Summary{.start = start, .count = 0, .min = v, .max = v, .sum = 0, .first = v, .last = v});
      scaled_sum = 0;
    }
    Summary& s = out.back();
    ++s.count;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
    s.last = v;
    if (scale) {
      scaled_sum += std::llround(v * factor);
    } else {
      s.sum += v;
    }
  }
  if (!out.empty()) close();
  return out;
}

std::vector<Summary> coarsen(std::span<const Summary> fine, std::int64_t step) {
  std::vector<Summary> out;
  for (const Summary& s : fine) {
    std::int64_t start = floor_to(s.start, step);
    if (out.empty() || out.back().start != start) {
      Summary first = s;
      first.start = start;
      out.push_back(first);
      continue;
    }
    Summary& c = out.back();
    c.count += s.count;
    c.min = std::min(c.min, s.min);
    c.max = std::max(c.max, s.max);
    c.sum += s.sum;
    c.last = s.last;
  }
  return out;
}

std::vector<std::uint8_t> encode_rollup_block(std::span<const Summary> summaries) {
  std::vector<std::uint8_t> out;
  put_varint(out, summaries.size());
  std::vector<std::int64_t> starts;
  std::vector<double> column;
  starts.reserve(summaries.size());
  column.reserve(summaries.size());
  for (const Summary& s : summaries) starts.push_back(s.start);
  encode_timestamps(starts, out);
  for (const Summary& s : summaries) column.push_back(static_cast<double>(s.count));
  encode_values(column, out);
  for (double Summary::*field :
       {&Summary::min, &Summary::max, &Summary::sum, &Summary::first, &Summary::last}) {
    column.clear();
    for (const Summary& s : summaries) column.push_back(s.*field);
    encode_values(column, out);
  }
  return out;
}

void decode_rollup_block(std::span<const std::uint8_t> blob, std::vector<Summary>& out) {
  ByteReader in{blob.data(), blob.size(), 0};
  std::uint64_t count = get_varint(in);
  if (count > blob.size() * 8) throw std::runtime_error("corrupt block");
  std::vector<std::int64_t> starts;
  decode_timestamps(in, count, starts);
  std::size_t base = out.size();
  out.resize(base + count);
  for (std::size_t i = 0; i < count; ++i) out[base + i].start = starts[i];
  std::vector<double> column;
  decode_values(in, count, column);
  for (std::size_t i = 0; i < count; ++i) out[base + i].count = static_cast<std::int64_t>(column[i]);
  for (double Summary::*field :
       {&Summary::min, &Summary::max, &Summary::sum, &Summary::first, &Summary::last}) {
    column.clear();
    decode_values(in, count, column);
    for (std::size_t i = 0; i < count; ++i) out[base + i].*field = column[i];
  }
}

}  // namespace factoryops::tsdb::embedded
