// Encoding for InfluxDB: line protocol for writes, InfluxQL quoting for queries, gzip bodies,
// and an exact reader for /query answers. Free functions over values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "tsdb/store.hpp"

namespace factoryops::tsdb::influx {

inline constexpr std::string_view kMeasurement = "telemetry";

// Appends one line per reading: telemetry,factory_id=…,device_id=… <metric>=<float>,… <ts_ms>.
// Readings without fields are skipped. Returns the number of lines appended.
std::size_t append_lines(std::string& out, const DeviceBatch& batch, std::size_t first_reading,
                         std::size_t max_lines);

// Line-protocol escaping of a tag key, tag value or field key (commas, equals signs, spaces).
std::string escape_key(std::string_view text);
// The shortest decimal text that parses back to exactly `value`.
std::string format_double(double value);

// InfluxQL: "identifier" and 'string literal', backslash-escaped.
std::string quote_identifier(std::string_view name);
std::string quote_literal(std::string_view text);

std::string gzip(std::string_view data);
// Throws std::runtime_error on a corrupt stream.
std::string gunzip(std::string_view data);

// The factory, device and time span of the lines of one write body: per device, one span per
// cluster of points (points more than an hour apart start another span).
struct LineSpan {
  std::string factory;
  std::string device;
  std::int64_t min_ts = 0;
  std::int64_t max_ts = 0;
};
// Only lines older than `older_than_ms` count; lines this module did not write are skipped.
std::vector<LineSpan> spans_of_lines(std::string_view lines, std::int64_t older_than_ms);

// One statement's answer from /query.
struct ResultSeries {
  std::string name;
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<std::string> columns;
  // Cells keep numbers as their exact decimal text (see parse_query_answer).
  std::vector<std::vector<boost::json::value>> values;
};
struct StatementResult {
  std::string error;  // empty when the statement succeeded
  std::vector<ResultSeries> series;
};

// Parses a /query body. Numbers are kept as their decimal text so that doubles convert
// exactly (std::from_chars); Boost.JSON 1.81 rounds some decimal texts. Throws std::runtime_error
// on a body that is not an InfluxDB answer. A top-level "error" becomes one failed statement.
std::vector<StatementResult> parse_query_answer(std::string_view body);

std::optional<double> cell_double(const boost::json::value& cell);
std::optional<std::int64_t> cell_int(const boost::json::value& cell);
std::string cell_string(const boost::json::value& cell);

}  // namespace factoryops::tsdb::influx
