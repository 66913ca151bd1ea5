// Formatting shared by the notification messages: HTML escaping, numbers as people read them,
// instants in a factory's local time. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace factoryops::notify {

// Escapes &, <, >, " and ' so that text is inert in HTML element content and attribute values.
std::string html_escape(std::string_view text);

// Up to three decimals without trailing zeros: 82.4, 75, -0.125, 1234567; "n/a" for NaN or infinity.
std::string format_number(double value);

// "2026-11-28 14:15:03 IST" for `epoch_ms` in the IANA zone `timezone`; UTC when the zone is
// unknown.
std::string format_local_time(std::int64_t epoch_ms, std::string_view timezone);

// `text` with every control character (CR, LF, tab…) replaced by a space: for a header line.
std::string single_line(std::string_view text);

// Shortens `text` to at most `max_chars` UTF-8 characters, ending with "…" when cut.
std::string truncate_utf8(std::string_view text, std::size_t max_chars);

}  // namespace factoryops::notify
