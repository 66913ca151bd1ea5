#include "tsdb/store.hpp"

#include <array>
#include <utility>

namespace factoryops::tsdb {
namespace {

constexpr std::array<std::pair<Aggregate, std::string_view>, 7> kNames = {{
    {Aggregate::kAvg, "avg"},
    {Aggregate::kMin, "min"},
    {Aggregate::kMax, "max"},
    {Aggregate::kSum, "sum"},
    {Aggregate::kCount, "count"},
    {Aggregate::kFirst, "first"},
    {Aggregate::kLast, "last"},
}};

}  // namespace

std::string_view aggregate_name(Aggregate aggregate) {
  for (const auto& [value, name] : kNames) {
    if (value == aggregate) return name;
  }
  return "avg";
}

std::optional<Aggregate> parse_aggregate(std::string_view name) {
  for (const auto& [value, text] : kNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

}  // namespace factoryops::tsdb
