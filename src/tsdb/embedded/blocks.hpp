// Encoded blocks stored by the embedded engine: a raw block holds the points of one series in
// one aligned window; a rollup block holds summaries (one-minute ones of a window, or the hourly
// ones of a UTC day). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace factoryops::tsdb::embedded {

// Raw blocks cover fixed windows aligned to the epoch, so late data rewrites one block.
constexpr std::int64_t kWindowMs = 2 * 3'600'000;

std::int64_t floor_to(std::int64_t ts, std::int64_t step);

// Points of one series, ascending and unique by timestamp.
struct Columns {
  std::vector<std::int64_t> ts;
  std::vector<double> values;
  std::size_t size() const { return ts.size(); }
  void clear() {
    ts.clear();
    values.clear();
  }
};

// count, min, max, sum, first and last (by time) of the points of one bucket.
struct Summary {
  std::int64_t start = 0;
  std::int64_t count = 0;
  double min = 0;
  double max = 0;
  double sum = 0;
  double first = 0;
  double last = 0;
};

std::vector<std::uint8_t> encode_raw_block(const Columns& points);
// Appends the block's points to `out`. Throws std::runtime_error when the blob is corrupt.
void decode_raw_block(std::span<const std::uint8_t> blob, Columns& out);

// One summary per non-empty minute of `points` (ascending). Sums of decimal data are exact
// sums of the scaled integers, rounded once.
std::vector<Summary> minute_summaries(const Columns& points);
// Folds ascending summaries into buckets of `step` (a multiple of theirs) aligned to the epoch.
std::vector<Summary> coarsen(std::span<const Summary> fine, std::int64_t step);
std::vector<std::uint8_t> encode_rollup_block(std::span<const Summary> summaries);
void decode_rollup_block(std::span<const std::uint8_t> blob, std::vector<Summary>& out);

}  // namespace factoryops::tsdb::embedded
