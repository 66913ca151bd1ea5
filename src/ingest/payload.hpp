// Telemetry payloads (docs/api-telemetry.md, "Payload"): parsing, validation and flattening of
// one message into tsdb::Reading values, with a reason for everything dropped or rejected.
// Stateless free functions, thread-safe; no exceptions for bad input (the result says why).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsdb/store.hpp"

namespace factoryops::ingest {

constexpr std::size_t kMaxPayloadBytes = 256 * 1024;
constexpr std::size_t kMaxKeysPerReading = 500;
constexpr std::size_t kMaxKeyLength = 64;
constexpr std::int64_t kMaxPastMs = 400 * tsdb::kDayMs;
constexpr std::int64_t kMaxFutureMs = 5 * tsdb::kMinuteMs;

// The reason names are part of the HTTP contract and the metric labels.
enum class Reason {
  kInvalidJson,
  kTooLarge,
  kNotAnObject,
  kEmpty,
  kTooManyKeys,
  kBadTimestamp,
  kTimestampOutOfRange,
  kNoValidFields,
  kBadKey,
  kNotANumber,
  kNotFinite,
};
std::string_view reason_name(Reason reason);

enum class DataType { kNumber, kBool };
std::string_view data_type_name(DataType type);

// A rejected reading (field empty) or a dropped field of reading `index`.
struct Issue {
  std::size_t index = 0;
  std::optional<std::string> field{};
  Reason reason = Reason::kInvalidJson;
  std::string message{};
  std::string payload_head{};  // readings only: the reading's JSON text, cut to 512 bytes
};

struct KeySeen {
  std::string key;
  DataType type = DataType::kNumber;
};

struct ParsedPayload {
  // Set when the message as a whole is refused (invalid_json, too_large, not_an_object, empty);
  // then nothing else is filled in.
  std::optional<Issue> message_rejection{};
  std::vector<tsdb::Reading> readings{};   // the accepted readings, in message order
  std::size_t reading_count = 0;           // readings in the message (accepted + rejected)
  std::vector<Issue> rejected_readings{};  // in message order
  std::vector<Issue> dropped_fields{};     // in message order
  std::vector<KeySeen> keys{};             // each accepted key once, with its data type
  std::size_t value_count = 0;             // fields across the accepted readings
};

// Parses `payload` received at `now_ms`; readings without "ts" get `now_ms`.
ParsedPayload parse_payload(std::string_view payload, std::int64_t now_ms);

// RFC 3339 date-time ("2026-11-27T10:00:00Z", "…T10:00:00.123+05:30", fraction of any length,
// 't'/'z' accepted) as epoch ms, or nullopt when malformed. Fractions below 1 ms are truncated.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

// True for a key matching [A-Za-z0-9_.-]{1,64}.
bool is_valid_key(std::string_view key);

// The first `max_bytes` of `bytes` as valid UTF-8 text: an incomplete last sequence is cut and
// invalid bytes become U+FFFD, so the result can be stored in a text column and shown.
std::string utf8_head(std::string_view bytes, std::size_t max_bytes = 512);

}  // namespace factoryops::ingest
