// Brute-force protection for sign-in: failed attempts are stored in the metadata store (so
// every replica sees them) and counted over a sliding window per (factory, email) and per
// client address. Thread-safe; the Database must outlive the throttle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"

namespace factoryops::auth {

struct ThrottleLimits {
  std::size_t per_account = 5;   // failures allowed per (factory, email) within the window
  std::size_t per_address = 20;  // failures allowed per client address within the window
  std::int64_t window_ms = 15 * 60 * 1000;
};

// With `failures` (timestamps in ms, any order) and at most `limit` allowed in any window of
// `window_ms`: nullopt when another attempt may be made at `now_ms`, otherwise the whole
// seconds (at least 1) until the oldest failure that still counts leaves the window.
std::optional<std::int64_t> retry_after_seconds(std::vector<std::int64_t> failures, std::int64_t now_ms,
                                                std::int64_t window_ms, std::size_t limit);

class LoginThrottle {
 public:
  LoginThrottle(db::Database& db, ThrottleLimits limits = {}) : db_(db), limits_(limits) {}

  // Seconds to wait when either limit is reached, else nullopt.
  std::optional<std::int64_t> blocked_for(const std::string& factory_id, const std::string& email,
                                          const std::string& address);
  void record_failure(const std::string& factory_id, const std::string& email, const std::string& address);
  // A successful sign-in forgets the account's failures (not the address's).
  void clear(const std::string& factory_id, const std::string& email);

  const ThrottleLimits& limits() const { return limits_; }

 private:
  db::Database& db_;
  ThrottleLimits limits_;
};

}  // namespace factoryops::auth
