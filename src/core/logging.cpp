#include "core/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>

namespace factoryops::log {
namespace {

struct State {
  std::mutex mutex;  // guards role and the logger pointer swap
  std::string role = "factoryops";
  std::shared_ptr<spdlog::logger> logger;
  std::atomic<int> level{static_cast<int>(Level::info)};
};

State& state() {
  static State s;
  return s;
}

thread_local std::string t_request_id;

std::shared_ptr<spdlog::logger> logger() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.logger) {
    // The line is already a complete JSON object; spdlog only adds the newline and
    // serialises writers.
    s.logger = spdlog::stderr_logger_mt("factoryops-json");
    s.logger->set_pattern("%v");
    s.logger->set_level(spdlog::level::trace);
    s.logger->flush_on(spdlog::level::trace);
  }
  return s.logger;
}

void append_escaped(std::string& out, std::string_view text) {
  out.push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_value(std::string& out, std::string_view key, const FieldValue& value) {
  if (is_secret_key(key)) {
    out += "\"[redacted]\"";
    return;
  }
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isfinite(v)) {
            out += fmt::format("{}", v);
          } else {
            out += "null";
          }
        } else if constexpr (std::is_integral_v<T>) {
          out += std::to_string(v);
        } else if constexpr (std::is_same_v<T, const char*>) {
          append_escaped(out, v == nullptr ? std::string_view{} : std::string_view(v));
        } else {
          append_escaped(out, v);
        }
      },
      value);
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warning";
    case Level::error: return "error";
  }
  return "info";
}

std::string timestamp_now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf.data(), ms % 1000);
}

}  // namespace

bool parse_level(std::string_view text, Level& out) {
  std::string lower;
  for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "debug")
    out = Level::debug;
  else if (lower == "info")
    out = Level::info;
  else if (lower == "warning" || lower == "warn")
    out = Level::warn;
  else if (lower == "error")
    out = Level::error;
  else
    return false;
  return true;
}

void init(std::string role, Level level) {
  set_role(std::move(role));
  state().level.store(static_cast<int>(level));
  logger();
}

void set_role(std::string role) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.role = std::move(role);
}

bool enabled(Level level) {
  return static_cast<int>(level) >= state().level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view msg, Fields fields) {
  if (!enabled(level)) return;
  std::string role;
  {
    State& s = state();
    std::lock_guard lock(s.mutex);
    role = s.role;
  }
  std::string line;
  line.reserve(160 + msg.size());
  line += "{\"ts\":\"";
  line += timestamp_now();
  line += "\",\"level\":\"";
  line += level_name(level);
  line += "\",\"role\":";
  append_escaped(line, role);
  line += ",\"request_id\":";
  append_escaped(line, t_request_id);
  line += ",\"msg\":";
  append_escaped(line, msg);
  if (fields.size() > 0) {
    line += ",\"fields\":{";
    bool first = true;
    for (const auto& [key, value] : fields) {
      if (!first) line.push_back(',');
      first = false;
      append_escaped(line, key);
      line.push_back(':');
      append_value(line, key, value);
    }
    line.push_back('}');
  }
  line.push_back('}');
  logger()->log(spdlog::level::info, "{}", line);
}

const std::string& current_request_id() {
  return t_request_id;
}

RequestIdScope::RequestIdScope(std::string request_id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(request_id);
}

RequestIdScope::~RequestIdScope() {
  t_request_id = std::move(previous_);
}

std::string redact_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  auto authority_start = scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority_start);
  std::string_view authority =
      url.substr(authority_start, authority_end == std::string_view::npos ? std::string_view::npos
                                                                          : authority_end - authority_start);
  auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  auto colon = authority.find(':');
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  std::string out(url.substr(0, authority_start + colon + 1));
  out += "***";
  out += url.substr(authority_start + at);
  return out;
}

bool is_secret_key(std::string_view key) {
  std::string lower;
  for (char c : key) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  static constexpr std::array<std::string_view, 8> kSecretWords = {
      "password", "passwd", "secret", "token", "authorization", "api_key", "apikey", "cookie"};
  for (auto word : kSecretWords) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace factoryops::log
