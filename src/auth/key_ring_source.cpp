#include "auth/key_ring_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "auth/crypto.hpp"
#include "core/logging.hpp"

namespace factoryops::auth {

KeyRingSource::KeyRingSource(KeyRingOptions options) : options_(std::move(options)) {
  if (options_.file_required && !std::filesystem::exists(options_.file)) {
    throw std::runtime_error("jwt_keys_file: '" + options_.file.string() + "' does not exist");
  }
  mtime_ = file_mtime();
  ring_ = load();
  last_check_ = std::chrono::steady_clock::now();
}

std::filesystem::file_time_type KeyRingSource::file_mtime() const {
  std::error_code ec;
  if (options_.file.empty()) return {};
  auto t = std::filesystem::last_write_time(options_.file, ec);
  return ec ? std::filesystem::file_time_type{} : t;
}

std::shared_ptr<const KeyRing> KeyRingSource::load() const {
  std::vector<SigningKey> keys;
  if (!options_.env_secret.empty()) keys.push_back(SigningKey{"default", options_.env_secret});
  if (!options_.file.empty() && std::filesystem::exists(options_.file)) {
    std::ifstream in(options_.file);
    if (!in) throw std::runtime_error("jwt_keys_file: cannot read '" + options_.file.string() + "'");
    std::stringstream text;
    text << in.rdbuf();
    std::vector<SigningKey> from_file;
    try {
      from_file = parse_key_file(text.str());
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("jwt_keys_file '" + options_.file.string() + "': " + e.what());
    }
    for (auto& key : from_file) {
      if (options_.production && key.secret.size() < kMinProductionKeyChars) {
        throw std::runtime_error("jwt_keys_file '" + options_.file.string() + "': key '" + key.kid +
                                 "' must be at least 32 characters in production");
      }
      if (key.kid == "default" && !options_.env_secret.empty()) {
        throw std::runtime_error("jwt_keys_file '" + options_.file.string() +
                                 "': kid 'default' is taken by FACTORYOPS_JWT_SECRET");
      }
      keys.push_back(std::move(key));
    }
  }
  if (keys.empty())
    throw std::runtime_error("no JWT signing key: set FACTORYOPS_JWT_SECRET or jwt_keys_file");
  try {
    return std::make_shared<const KeyRing>(std::move(keys));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("JWT key ring: ") + e.what());
  }
}

std::shared_ptr<const KeyRing> KeyRingSource::current() {
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (options_.file.empty() || now - last_check_ < options_.check_interval) return ring_;
    last_check_ = now;
    changed = file_mtime() != mtime_;
    if (!changed) return ring_;
  }
  reload();
  std::lock_guard lock(mutex_);
  return ring_;
}

bool KeyRingSource::reload() {
  auto mtime = file_mtime();
  try {
    auto ring = load();
    std::lock_guard lock(mutex_);
    ring_ = std::move(ring);
    mtime_ = mtime;
    log::info("JWT key ring loaded", {{"keys", static_cast<std::int64_t>(ring_->keys().size())},
                                      {"signing_kid", ring_->signing().kid}});
    return true;
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    // Remember the mtime anyway: a broken file is reported once, not every 2 seconds.
    mtime_ = mtime;
    log::error("JWT key ring not reloaded; keeping the previous keys",
               {{"error", std::string_view(e.what())}});
    return false;
  }
}

std::filesystem::path key_file_path(const core::Config& config) {
  return config.jwt_keys_file.empty() ? config.data_dir / "jwt-keys" : config.jwt_keys_file;
}

KeyRingOptions key_ring_options(const core::Config& config) {
  KeyRingOptions o;
  o.env_secret = config.jwt_secret;
  o.file = key_file_path(config);
  o.file_required = !config.jwt_keys_file.empty();
  o.production = config.production();
  return o;
}

std::string rotate_key_file(const std::filesystem::path& file) {
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  std::string kid = "k" + std::string(stamp) + "-" + random_hex(3);
  std::string line = kid + " " + random_token(32) + "\n";

  int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + file.string());
  // A file that ended without a newline would glue the new key onto its last line.
  struct stat st {};
  bool needs_newline = false;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    int rfd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (rfd >= 0) {
      char last = '\n';
      if (::pread(rfd, &last, 1, st.st_size - 1) == 1) needs_newline = last != '\n';
      ::close(rfd);
    }
  }
  if (needs_newline) line.insert(line.begin(), '\n');
  ssize_t written = ::write(fd, line.data(), line.size());
  int saved = errno;
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size()) || !synced) {
    throw std::system_error(saved, std::generic_category(), "cannot write " + file.string());
  }
  return kid;
}

}  // namespace factoryops::auth
