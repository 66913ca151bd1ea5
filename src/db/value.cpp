#include "db/value.hpp"

namespace factoryops::db {

std::string_view type_name(const Value& v) {
  switch (v.index()) {
    case 0: return "null";
    case 1: return "integer";
    case 2: return "real";
    default: return "text";
  }
}

Row::Row(std::shared_ptr<const std::vector<std::string>> columns, std::vector<Value> values)
    : columns_(std::move(columns)), values_(std::move(values)) {}

const Value& Row::at(std::size_t index) const {
  if (index >= values_.size()) {
    throw DbError("column index " + std::to_string(index) + " out of range (row has " +
                  std::to_string(values_.size()) + " columns)");
  }
  return values_[index];
}

const Value& Row::at(std::string_view name) const {
  return values_[index_of(name)];
}

std::size_t Row::index_of(std::string_view name) const {
  const auto& cols = *columns_;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i] == name) return i;
  }
  throw DbError("no column named '" + std::string(name) + "' in the result");
}

bool Row::is_null(std::size_t index) const {
  return std::holds_alternative<std::nullptr_t>(at(index));
}

void Row::mismatch(std::size_t index, std::string_view wanted) const {
  std::string column = index < columns_->size() ? (*columns_)[index] : std::to_string(index);
  throw DbError("column '" + column + "': expected " + std::string(wanted) + ", got " +
                std::string(type_name(at(index))));
}

std::int64_t Row::get_int(std::size_t index) const {
  if (const auto* v = std::get_if<std::int64_t>(&at(index))) return *v;
  mismatch(index, "integer");
}

double Row::get_double(std::size_t index) const {
  const Value& v = at(index);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  // A REAL column holding a whole number can come back as an integer (SQLite stores
  // 3.0 as 3 in non-STRICT contexts, MySQL aggregates may return integers).
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  mismatch(index, "real");
}

std::string Row::get_string(std::size_t index) const {
  if (const auto* v = std::get_if<std::string>(&at(index))) return *v;
  mismatch(index, "text");
}

bool Row::get_bool(std::size_t index) const {
  if (const auto* v = std::get_if<std::int64_t>(&at(index))) {
    if (*v == 0 || *v == 1) return *v == 1;
  }
  mismatch(index, "boolean (0 or 1)");
}

std::optional<std::int64_t> Row::get_optional_int(std::size_t index) const {
  if (is_null(index)) return std::nullopt;
  return get_int(index);
}

std::optional<double> Row::get_optional_double(std::size_t index) const {
  if (is_null(index)) return std::nullopt;
  return get_double(index);
}

std::optional<std::string> Row::get_optional_string(std::size_t index) const {
  if (is_null(index)) return std::nullopt;
  return get_string(index);
}

std::optional<bool> Row::get_optional_bool(std::size_t index) const {
  if (is_null(index)) return std::nullopt;
  return get_bool(index);
}

}  // namespace factoryops::db
