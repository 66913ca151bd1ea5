#include "notify/text_format.hpp"

#include <date/tz.h>

#include <chrono>
#include <cmath>
#include <cstdio>

namespace factoryops::notify {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_number(double value) {
  if (!std::isfinite(value)) return "n/a";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.3f", value);
  std::string out(buffer);
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  if (out == "-0") out = "0";
  return out;
}

std::string format_local_time(std::int64_t epoch_ms, std::string_view timezone) {
  using namespace std::chrono;
  const sys_time<seconds> t = floor<seconds>(sys_time<milliseconds>{milliseconds(epoch_ms)});
  try {
    const date::time_zone* zone = date::locate_zone(timezone);
    return date::format("%Y-%m-%d %H:%M:%S %Z", date::make_zoned(zone, t));
  } catch (const std::exception&) {
    return date::format("%Y-%m-%d %H:%M:%S UTC", t);
  }
}

std::string single_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string truncate_utf8(std::string_view text, std::size_t max_chars) {
  if (max_chars == 0) return {};
  std::size_t chars = 0;
  std::size_t cut = 0;  // where the last character that fits beside the ellipsis ends
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (chars == max_chars - 1) cut = i;
    if (chars == max_chars) return std::string(text.substr(0, cut)) + "\xE2\x80\xA6";
    ++chars;
  }
  return std::string(text);
}

}  // namespace factoryops::notify
