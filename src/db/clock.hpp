// The timestamp representation of every *_at column: milliseconds since the Unix epoch,
// UTC, as a 64-bit integer, in both dialects. Stateless, thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace factoryops::db {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace factoryops::db
