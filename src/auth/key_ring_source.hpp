// Where the signing keys come from at run time: FACTORYOPS_JWT_SECRET (kid "default") and
// the key file (one "kid secret" per line, the last line signs). The file is re-read by
// reload() (SIGHUP) and when its modification time changes (checked at most every 2 s), so
// keys rotate without a restart. Thread-safe; readers get an immutable snapshot.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "auth/jwt.hpp"
#include "core/config.hpp"

namespace factoryops::auth {

struct KeyRingOptions {
  std::string env_secret;      // empty: no "default" key
  std::filesystem::path file;  // empty: no file
  bool file_required = false;  // a configured file must exist; the default may not yet
  bool production = false;     // every key must then be at least 32 characters
  std::chrono::milliseconds check_interval{2000};
};

class KeyRingSource {
 public:
  // Loads the ring; throws std::runtime_error (naming the file and line, never a secret) when
  // it cannot be built.
  explicit KeyRingSource(KeyRingOptions options);

  // The current ring; first re-reads the file if its mtime changed since the last look and
  // check_interval has passed.
  std::shared_ptr<const KeyRing> current();

  // Re-reads the file now. On error keeps the previous ring, logs why and returns false.
  bool reload();

  const std::filesystem::path& file() const { return options_.file; }

 private:
  std::shared_ptr<const KeyRing> load() const;
  std::filesystem::file_time_type file_mtime() const;

  const KeyRingOptions options_;
  mutable std::mutex mutex_;  // guards the three members below
  std::shared_ptr<const KeyRing> ring_;
  std::filesystem::file_time_type mtime_{};
  std::chrono::steady_clock::time_point last_check_{};
};

inline constexpr std::size_t kMinProductionKeyChars = 32;

// The key file of `config`: jwt_keys_file, or <data_dir>/jwt-keys.
std::filesystem::path key_file_path(const core::Config& config);
// Options for the serving process: the environment secret plus the key file (required only
// when configured explicitly).
KeyRingOptions key_ring_options(const core::Config& config);

// Appends a new random key (32 bytes, base64url) to `file`, creating it with mode 0600 (and
// its directory) when absent. Returns the new kid ("k" + UTC time + random suffix).
std::string rotate_key_file(const std::filesystem::path& file);

}  // namespace factoryops::auth
