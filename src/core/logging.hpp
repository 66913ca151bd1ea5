// Structured logging: one JSON object per line on stderr (ts, level, role, request_id, msg,
// fields). Thread-safe. The request id is per thread: a handler or job sets it for its
// duration with RequestIdScope, so every line it logs carries it.
//
// Secrets never reach a line: fields whose key names a secret (password, token, secret,
// authorization, api_key, …) are replaced by "[redacted]", and URLs are logged without
// their password (see redact_url).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace factoryops::log {

enum class Level { debug, info, warn, error };

// Parses "debug" | "info" | "warning"/"warn" | "error" (case-insensitive).
bool parse_level(std::string_view text, Level& out);

// Sets up the process-wide logger. Before init() lines go to stderr at info level.
void init(std::string role, Level level);
void set_role(std::string role);
bool enabled(Level level);

using FieldValue =
    std::variant<std::string_view, std::string, const char*, std::int64_t, int, std::uint64_t, double, bool>;
using Field = std::pair<std::string_view, FieldValue>;
using Fields = std::initializer_list<Field>;

void write(Level level, std::string_view msg, Fields fields = {});
inline void debug(std::string_view msg, Fields fields = {}) {
  write(Level::debug, msg, fields);
}
inline void info(std::string_view msg, Fields fields = {}) {
  write(Level::info, msg, fields);
}
inline void warn(std::string_view msg, Fields fields = {}) {
  write(Level::warn, msg, fields);
}
inline void error(std::string_view msg, Fields fields = {}) {
  write(Level::error, msg, fields);
}

// The request id of the work running on this thread ("" when none).
const std::string& current_request_id();

class RequestIdScope {
 public:
  explicit RequestIdScope(std::string request_id);
  ~RequestIdScope();
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;

 private:
  std::string previous_;
};

// "mysql://user:secret@host/db" -> "mysql://user:***@host/db"; other text unchanged.
std::string redact_url(std::string_view url);

// True when a field with this key must never be logged in clear.
bool is_secret_key(std::string_view key);

}  // namespace factoryops::log
