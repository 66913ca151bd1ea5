#include "api/csv.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "api/identity_json.hpp"

namespace factoryops::api {

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string series_csv(const std::vector<tsdb::Series>& series) {
  std::string out = "time";
  for (const auto& s : series) {
    out += ',';
    out += csv_field(s.metric);
  }
  out += "\r\n";

  // Merge the ascending series column by column: each row is the smallest timestamp any
  // series has not written yet.
  std::vector<std::size_t> next(series.size(), 0);
  char number[32];
  while (true) {
    std::int64_t t = std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = 0; i < series.size(); ++i) {
      if (next[i] < series[i].points.size()) t = std::min(t, series[i].points[next[i]].ts_ms);
    }
    if (t == std::numeric_limits<std::int64_t>::max()) break;
    out += format_timestamp_ms(t);
    for (std::size_t i = 0; i < series.size(); ++i) {
      out += ',';
      if (next[i] < series[i].points.size() && series[i].points[next[i]].ts_ms == t) {
        // Shortest text that reads back as the same double.
        auto [end, ec] = std::to_chars(number, number + sizeof number, series[i].points[next[i]].value);
        if (ec == std::errc()) out.append(number, end);
        ++next[i];
      }
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace factoryops::api
