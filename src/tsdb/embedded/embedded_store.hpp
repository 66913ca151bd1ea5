// The embedded telemetry engine: one SQLite file per factory under the store directory, holding
// compressed two-hour raw blocks, one-minute and hourly rollup blocks and daily rollups (local days
// of the factory's zone) per series, fed from in-memory heads that a write-ahead log makes
// durable. Thread-safe. Open it once per process (the write-ahead log is not shared between
// instances); it flushes its heads when destroyed.
#pragma once

#include "tsdb/store.hpp"

namespace factoryops::tsdb::embedded {

// Heads are compacted into blocks by a background thread when they hold this many points (see
// EmbeddedOptions::compact_at_points), or this long after the last compaction; writes and
// queries go on meanwhile. flush() and destruction compact at once.
constexpr std::size_t kMaxHeadPoints = 4'000'000;
constexpr int kFlushEverySeconds = 30;

}  // namespace factoryops::tsdb::embedded
