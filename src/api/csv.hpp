// CSV export of telemetry answers (docs/api-telemetry.md, "CSV"): one row per timestamp
// present in any series, RFC 3339 times, empty cells where a series has no point. Stateless
// free functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tsdb/store.hpp"

namespace factoryops::api {

// "time,<series metric>,…\r\n" then the rows. Each series' points must be ascending.
std::string series_csv(const std::vector<tsdb::Series>& series);

// One CSV field: quoted (with doubled quotes) when it holds a comma, quote or line break.
std::string csv_field(std::string_view text);

}  // namespace factoryops::api
