#include "tsdb/influx/line_protocol.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <system_error>

#include <boost/json/parse.hpp>

namespace factoryops::tsdb::influx {
namespace {

void append_escaped(std::string& out, std::string_view text, std::string_view special) {
  for (char c : text) {
    if (special.find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
}

void append_int(std::string& out, std::int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

// Wraps every number outside strings in double quotes, so that the JSON parser hands over
// the digits untouched.
std::string quote_numbers(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 4);
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) {
        out.push_back(json[++i]);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t end = i;
      while (end < json.size() &&
             std::string_view("0123456789+-.eE").find(json[end]) != std::string_view::npos) {
        ++end;
      }
      out.push_back('"');
      out.append(json.substr(i, end - i));
      out.push_back('"');
      i = end - 1;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string escape_key(std::string_view text) {
  std::string out;
  append_escaped(out, text, ", =");
  return out;
}

std::string format_double(double value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, end);
}

std::size_t append_lines(std::string& out, const DeviceBatch& batch, std::size_t first_reading,
                         std::size_t max_lines) {
  std::string prefix(kMeasurement);
  prefix += ",device_id=";
  append_escaped(prefix, batch.device.str(), ", =");
  prefix += ",factory_id=";  // tags sorted by key, as InfluxDB prefers
  append_escaped(prefix, batch.factory.str(), ", =");
  prefix.push_back(' ');
  std::size_t lines = 0;
  for (std::size_t i = first_reading; i < batch.readings.size() && lines < max_lines; ++i) {
    const auto& reading = batch.readings[i];
    if (reading.fields.empty()) continue;
    out += prefix;
    bool first = true;
    for (const auto& field : reading.fields) {
      if (!first) out.push_back(',');
      first = false;
      append_escaped(out, field.key, ", =");
      out.push_back('=');
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, field.value);
      out.append(buf, end);
    }
    out.push_back(' ');
    append_int(out, reading.ts_ms);
    out.push_back('\n');
    ++lines;
  }
  return lines;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  append_escaped(out, name, "\"\\");
  out.push_back('"');
  return out;
}

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  append_escaped(out, text, "'\\");
  out.push_back('\'');
  return out;
}

std::string gzip(std::string_view data) {
  z_stream zs{};
  // 15 + 16: a gzip header and trailer, as Content-Encoding: gzip requires.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish");
  return out;
}

std::string gunzip(std::string_view data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw std::runtime_error("gunzip: inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw std::runtime_error("gunzip: corrupt stream");
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      throw std::runtime_error("gunzip: truncated stream");
    }
  }
  inflateEnd(&zs);
  return out;
}

std::vector<LineSpan> spans_of_lines(std::string_view lines, std::int64_t older_than_ms) {
  std::vector<LineSpan> spans;
  const std::string measurement_prefix = std::string(kMeasurement) + ",device_id=";
  std::size_t pos = 0;
  while (pos < lines.size()) {
    std::size_t eol = lines.find('\n', pos);
    if (eol == std::string_view::npos) eol = lines.size();
    std::string_view line = lines.substr(pos, eol - pos);
    pos = eol + 1;
    // Ids are slugs and metric keys never hold spaces, so a line of ours has exactly two.
    auto first_space = line.find(' ');
    auto last_space = line.rfind(' ');
    if (line.rfind(measurement_prefix, 0) != 0 || first_space == last_space) continue;
    std::string_view tags = line.substr(measurement_prefix.size(), first_space - measurement_prefix.size());
    auto comma = tags.find(",factory_id=");
    if (comma == std::string_view::npos) continue;
    std::string_view device = tags.substr(0, comma);
    std::string_view factory = tags.substr(comma + 12);
    std::int64_t ts = 0;
    std::string_view ts_text = line.substr(last_space + 1);
    if (std::from_chars(ts_text.data(), ts_text.data() + ts_text.size(), ts).ec != std::errc{}) continue;
    if (ts >= older_than_ms) continue;
    // Points far apart (a backlog next to live data) make separate spans, so that rolling up
    // covers the minutes that hold points, not the months between them.
    constexpr std::int64_t kJoinWithinMs = 3'600'000;
    auto it = std::find_if(spans.begin(), spans.end(), [&](const LineSpan& s) {
      return s.device == device && s.factory == factory && ts >= s.min_ts - kJoinWithinMs &&
             ts <= s.max_ts + kJoinWithinMs;
    });
    if (it == spans.end()) {
      spans.push_back(LineSpan{std::string(factory), std::string(device), ts, ts});
    } else {
      it->min_ts = std::min(it->min_ts, ts);
      it->max_ts = std::max(it->max_ts, ts);
    }
  }
  return spans;
}

std::vector<StatementResult> parse_query_answer(std::string_view body) {
  std::error_code ec;
  auto root = boost::json::parse(quote_numbers(body), ec);
  if (ec || !root.is_object()) throw std::runtime_error("InfluxDB answer is not a JSON object");
  const auto& object = root.as_object();
  std::vector<StatementResult> out;
  if (auto* error = object.if_contains("error"); error && error->is_string()) {
    out.push_back(StatementResult{std::string(error->as_string()), {}});
    return out;
  }
  auto* results = object.if_contains("results");
  if (!results || !results->is_array()) throw std::runtime_error("InfluxDB answer has no results");
  for (const auto& result : results->as_array()) {
    StatementResult statement;
    if (!result.is_object()) throw std::runtime_error("InfluxDB result is not an object");
    const auto& r = result.as_object();
    if (auto* error = r.if_contains("error"); error && error->is_string()) {
      statement.error = std::string(error->as_string());
    }
    if (auto* series = r.if_contains("series"); series && series->is_array()) {
      for (const auto& s : series->as_array()) {
        if (!s.is_object()) continue;
        const auto& so = s.as_object();
        ResultSeries rs;
        if (auto* name = so.if_contains("name"); name && name->is_string()) rs.name = name->as_string();
        if (auto* tags = so.if_contains("tags"); tags && tags->is_object()) {
          for (const auto& [key, value] : tags->as_object()) rs.tags.emplace_back(key, cell_string(value));
        }
        if (auto* columns = so.if_contains("columns"); columns && columns->is_array()) {
          for (const auto& c : columns->as_array()) rs.columns.push_back(cell_string(c));
        }
        if (auto* values = so.if_contains("values"); values && values->is_array()) {
          for (const auto& row : values->as_array()) {
            if (!row.is_array()) continue;
            rs.values.emplace_back(row.as_array().begin(), row.as_array().end());
          }
        }
        statement.series.push_back(std::move(rs));
      }
    }
    out.push_back(std::move(statement));
  }
  return out;
}

std::optional<double> cell_double(const boost::json::value& cell) {
  if (!cell.is_string()) return std::nullopt;
  const auto& text = cell.as_string();
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> cell_int(const boost::json::value& cell) {
  if (!cell.is_string()) return std::nullopt;
  const auto& text = cell.as_string();
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string cell_string(const boost::json::value& cell) {
  if (cell.is_string()) return std::string(cell.as_string());
  return {};
}

}  // namespace factoryops::tsdb::influx
