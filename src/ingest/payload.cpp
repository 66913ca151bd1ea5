#include "ingest/payload.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <cmath>
#include <unordered_map>

namespace factoryops::ingest {
namespace {
namespace json = boost::json;

constexpr std::size_t kHeadBytes = 512;

Issue reading_issue(std::size_t index, Reason reason, std::string message, const json::value& reading) {
  Issue issue;
  issue.index = index;
  issue.reason = reason;
  issue.message = std::move(message);
  issue.payload_head = utf8_head(json::serialize(reading), kHeadBytes);
  return issue;
}

std::string value_kind(const json::value& value) {
  switch (value.kind()) {
    case json::kind::string: return "a string";
    case json::kind::null: return "null";
    case json::kind::array: return "an array";
    default: return "not a number";
  }
}

// Walks one reading, flattening nested objects; stops counting once the key limit is passed.
class ReadingFlattener {
 public:
  ReadingFlattener(std::size_t index, ParsedPayload& out, tsdb::Reading& reading,
                   std::unordered_map<std::string, DataType>& types)
      : index_(index), out_(out), reading_(reading), types_(types) {}

  // False when the reading has more than kMaxKeysPerReading keys.
  bool walk(const json::object& object, bool top_level) {
    for (const auto& [name, value] : object) {
      if (top_level && name == "ts") continue;
      std::size_t mark = prefix_.size();
      if (!prefix_.empty()) prefix_.push_back('.');
      prefix_.append(name.data(), name.size());
      bool ok = true;
      if (value.is_object()) {
        ok = walk(value.get_object(), false);
      } else {
        ok = leaf(value, name.empty());
      }
      prefix_.resize(mark);
      if (!ok) return false;
    }
    return true;
  }

  std::size_t leaves() const { return leaves_; }

 private:
  bool leaf(const json::value& value, bool empty_segment) {
    if (++leaves_ > kMaxKeysPerReading) return false;
    if (empty_segment || !is_valid_key(prefix_)) {
      drop(Reason::kBadKey, "keys must match [A-Za-z0-9_.-]{1,64}");
      return true;
    }
    double number = 0;
    DataType type = DataType::kNumber;
    switch (value.kind()) {
      case json::kind::double_: number = value.get_double(); break;
      case json::kind::int64: number = static_cast<double>(value.get_int64()); break;
      case json::kind::uint64: number = static_cast<double>(value.get_uint64()); break;
      case json::kind::bool_:
        number = value.get_bool() ? 1.0 : 0.0;
        type = DataType::kBool;
        break;
      default:
        drop(Reason::kNotANumber, "value is " + value_kind(value) + "; expected a number or a boolean");
        return true;
    }
    if (!std::isfinite(number)) {
      drop(Reason::kNotFinite, "value is not a finite number");
      return true;
    }
    reading_.fields.push_back(tsdb::Field{prefix_, number});
    types_.try_emplace(prefix_, type);
    return true;
  }

  void drop(Reason reason, std::string message) {
    Issue issue;
    issue.index = index_;
    issue.field = prefix_;
    issue.reason = reason;
    issue.message = std::move(message);
    out_.dropped_fields.push_back(std::move(issue));
  }

  std::size_t index_;
  ParsedPayload& out_;
  tsdb::Reading& reading_;
  std::unordered_map<std::string, DataType>& types_;
  std::string prefix_;
  std::size_t leaves_ = 0;
};

// The timestamp of a reading, or the reason it has none usable.
std::optional<Reason> reading_time(const json::object& object, std::int64_t now_ms, std::int64_t& ts_ms,
                                   std::string& message) {
  auto it = object.find("ts");
  if (it == object.end()) {
    ts_ms = now_ms;
    return std::nullopt;
  }
  const json::value& ts = it->value();
  if (ts.is_int64()) {
    ts_ms = ts.get_int64();
  } else if (ts.is_uint64()) {
    message = "ts is out of range";
    return Reason::kTimestampOutOfRange;
  } else if (ts.is_double() && std::isfinite(ts.get_double()) &&
             std::trunc(ts.get_double()) == ts.get_double() && std::fabs(ts.get_double()) < 9.0e15) {
    ts_ms = static_cast<std::int64_t>(ts.get_double());
  } else if (ts.is_string()) {
    auto parsed = parse_rfc3339_ms(ts.get_string());
    if (!parsed) {
      message = "ts must be epoch milliseconds or an RFC 3339 date-time";
      return Reason::kBadTimestamp;
    }
    ts_ms = *parsed;
  } else {
    message = "ts must be epoch milliseconds (an integer) or an RFC 3339 string";
    return Reason::kBadTimestamp;
  }
  if (ts_ms < now_ms - kMaxPastMs || ts_ms > now_ms + kMaxFutureMs) {
    message = "ts must lie between 400 days ago and 5 minutes from now";
    return Reason::kTimestampOutOfRange;
  }
  return std::nullopt;
}

void parse_reading(std::size_t index, const json::value& value, std::int64_t now_ms, ParsedPayload& out,
                   std::unordered_map<std::string, DataType>& types) {
  if (!value.is_object()) {
    out.rejected_readings.push_back(
        reading_issue(index, Reason::kNotAnObject, "a reading must be a JSON object", value));
    return;
  }
  const json::object& object = value.get_object();
  tsdb::Reading reading;
  std::string message;
  if (auto reason = reading_time(object, now_ms, reading.ts_ms, message)) {
    out.rejected_readings.push_back(reading_issue(index, *reason, std::move(message), value));
    return;
  }
  std::size_t dropped_mark = out.dropped_fields.size();
  reading.fields.reserve(object.size());
  ReadingFlattener flattener(index, out, reading, types);
  if (!flattener.walk(object, true)) {
    out.dropped_fields.resize(dropped_mark);
    out.rejected_readings.push_back(reading_issue(
        index, Reason::kTooManyKeys, "a reading may hold at most 500 keys (after flattening)", value));
    return;
  }
  if (reading.fields.empty()) {
    bool had_keys = flattener.leaves() > 0;
    out.rejected_readings.push_back(
        reading_issue(index, had_keys ? Reason::kNoValidFields : Reason::kEmpty,
                      had_keys ? "no field of the reading was valid" : "the reading holds no metric", value));
    return;
  }
  out.value_count += reading.fields.size();
  out.readings.push_back(std::move(reading));
}

Issue message_issue(Reason reason, std::string message, std::string_view payload) {
  Issue issue;
  issue.reason = reason;
  issue.message = std::move(message);
  issue.payload_head = utf8_head(payload, kHeadBytes);
  return issue;
}

int digits(std::string_view text, std::size_t pos, std::size_t count, bool& ok) {
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') {
      ok = false;
      return 0;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

std::string_view reason_name(Reason reason) {
  switch (reason) {
    case Reason::kInvalidJson: return "invalid_json";
    case Reason::kTooLarge: return "too_large";
    case Reason::kNotAnObject: return "not_an_object";
    case Reason::kEmpty: return "empty";
    case Reason::kTooManyKeys: return "too_many_keys";
    case Reason::kBadTimestamp: return "bad_timestamp";
    case Reason::kTimestampOutOfRange: return "timestamp_out_of_range";
    case Reason::kNoValidFields: return "no_valid_fields";
    case Reason::kBadKey: return "bad_key";
    case Reason::kNotANumber: return "not_a_number";
    case Reason::kNotFinite: return "not_finite";
  }
  return "invalid_json";
}

std::string_view data_type_name(DataType type) {
  return type == DataType::kBool ? "bool" : "number";
}

bool is_valid_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS then an optional fraction, then Z or ±HH:MM.
  if (text.size() < 20) return std::nullopt;
  bool ok = true;
  int year = digits(text, 0, 4, ok);
  int month = digits(text, 5, 2, ok);
  int day = digits(text, 8, 2, ok);
  int hour = digits(text, 11, 2, ok);
  int minute = digits(text, 14, 2, ok);
  int second = digits(text, 17, 2, ok);
  if (!ok || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (text[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start < 3) millis = millis * 10 + (text[pos] - '0');
      ++pos;
    }
    std::size_t count = pos - start;
    if (count == 0) return std::nullopt;
    for (std::size_t i = count; i < 3; ++i) millis *= 10;
  }
  std::string_view zone = text.substr(pos);
  std::int64_t offset_minutes = 0;
  if (zone == "Z" || zone == "z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh = digits(zone, 1, 2, ok);
    int om = digits(zone, 4, 2, ok);
    if (!ok || oh > 23 || om > 59) return std::nullopt;
    offset_minutes = (zone[0] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                     std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  std::int64_t days_since_epoch = sys_days{ymd}.time_since_epoch().count();
  // A leap second (":60") is read as the first millisecond of the next minute, as most parsers do.
  std::int64_t secs = days_since_epoch * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return secs * 1000 + millis;
}

std::string utf8_head(std::string_view bytes, std::size_t max_bytes) {
  std::string_view head = bytes.substr(0, std::min(bytes.size(), max_bytes));
  std::string out;
  out.reserve(head.size());
  std::size_t i = 0;
  while (i < head.size()) {
    auto c = static_cast<unsigned char>(head[i]);
    std::size_t len = 0;
    std::uint32_t min_code = 0;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      min_code = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      min_code = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      min_code = 0x10000;
    }
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (i + len > head.size()) {
      // The cut fell inside a sequence that continues in `bytes`: drop it; if the sequence was
      // already broken before the cut, mark it.
      bool truncated = head.size() < bytes.size();
      for (std::size_t k = i + 1; k < head.size(); ++k)
        if ((static_cast<unsigned char>(head[k]) & 0xC0) != 0x80) truncated = false;
      if (!truncated) out += "\xEF\xBF\xBD";
      break;
    }
    std::uint32_t code = c & (0x7Fu >> len);
    bool valid = true;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(head[i + k]);
      if ((cc & 0xC0) != 0x80) {
        valid = false;
        break;
      }
      code = (code << 6) | (cc & 0x3Fu);
    }
    if (!valid || code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(head.substr(i, len));
    i += len;
  }
  return out;
}

ParsedPayload parse_payload(std::string_view payload, std::int64_t now_ms) {
  ParsedPayload out;
  if (payload.size() > kMaxPayloadBytes) {
    out.message_rejection = message_issue(Reason::kTooLarge, "the payload exceeds 256 KiB", payload);
    return out;
  }
  // One arena per message: a batch of 100 readings is a few thousand small allocations otherwise.
  // The buffer is per thread and reused; a large message spills over to the heap.
  thread_local std::vector<unsigned char> buffer(128 * 1024);
  json::monotonic_resource arena(buffer.data(), buffer.size());
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value root = json::parse(payload, ec, json::storage_ptr(&arena), options);
  if (ec) {
    out.message_rejection =
        message_issue(Reason::kInvalidJson, "the payload is not valid JSON: " + ec.message(), payload);
    return out;
  }
  std::unordered_map<std::string, DataType> types;
  if (root.is_object()) {
    out.reading_count = 1;
    parse_reading(0, root, now_ms, out, types);
  } else if (root.is_array()) {
    const json::array& readings = root.get_array();
    if (readings.empty()) {
      out.message_rejection = message_issue(Reason::kEmpty, "the payload is an empty array", payload);
      return out;
    }
    out.reading_count = readings.size();
    out.readings.reserve(readings.size());
    for (std::size_t i = 0; i < readings.size(); ++i) parse_reading(i, readings[i], now_ms, out, types);
  } else {
    out.message_rejection = message_issue(
        Reason::kNotAnObject, "the payload must be a JSON object or an array of objects", payload);
    return out;
  }
  out.keys.reserve(types.size());
  for (auto& [key, type] : types) out.keys.push_back(KeySeen{key, type});
  return out;
}

}  // namespace factoryops::ingest
