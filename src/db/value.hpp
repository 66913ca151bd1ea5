// SQL values and result rows shared by both dialects: parameters bound to `?` placeholders
// and the typed getters that read columns back. Plain value types; a Row is not shared
// between threads while one of them writes it. Rows own their data (no driver buffers).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/errors.hpp"

namespace factoryops::db {

// NULL, 64-bit integer (also booleans and timestamps), double, or text/bytes.
using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

// A failure reported by the database driver that is neither a unique-key conflict
// (core::Conflict) nor an unreachable server (core::Unavailable), or a misuse of a Row.
// The message carries the driver's text, never bound parameter values.
class DbError : public core::Error {
 public:
  explicit DbError(std::string message, int driver_code = 0)
      : core::Error(core::ErrorKind::internal, std::move(message)), driver_code_(driver_code) {}
  int driver_code() const { return driver_code_; }

 private:
  int driver_code_;
};

// One bound parameter. Implicit conversions keep call sites short:
//   conn.execute("UPDATE t SET a = ?, b = ? WHERE id = ?", {name, std::nullopt, 42});
// Booleans bind as 0/1 (both dialects store them as integers).
class Param {
 public:
  Param(std::nullptr_t) : value_(nullptr) {}
  Param(std::nullopt_t) : value_(nullptr) {}
  Param(bool b) : value_(std::int64_t{b ? 1 : 0}) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) Param(T v) : value_(static_cast<std::int64_t>(v)) {}
  Param(double v) : value_(v) {}
  Param(float v) : value_(static_cast<double>(v)) {}
  Param(const char* s) : value_(std::string(s)) {}
  Param(std::string_view s) : value_(std::string(s)) {}
  Param(std::string s) : value_(std::move(s)) {}
  Param(Value v) : value_(std::move(v)) {}
  template <typename T>
  Param(const std::optional<T>& v) : value_(nullptr) {
    if (v) value_ = Param(*v).value_;
  }

  const Value& value() const& { return value_; }
  Value&& value() && { return std::move(value_); }

 private:
  Value value_;
};

// Human-readable name of the type a Value holds ("null", "integer", "real", "text").
std::string_view type_name(const Value& v);

// One result row. Columns are addressed by 0-based index or by name (as the SELECT
// names them, case-sensitive). Getters throw DbError naming the column on a type mismatch
// or a NULL where a value is required; get_double also accepts integers.
class Row {
 public:
  Row(std::shared_ptr<const std::vector<std::string>> columns, std::vector<Value> values);

  std::size_t size() const { return values_.size(); }
  const std::vector<std::string>& columns() const { return *columns_; }
  const Value& at(std::size_t index) const;
  const Value& at(std::string_view name) const;
  std::size_t index_of(std::string_view name) const;

  bool is_null(std::size_t index) const;
  bool is_null(std::string_view name) const { return is_null(index_of(name)); }

  std::int64_t get_int(std::size_t index) const;
  double get_double(std::size_t index) const;
  std::string get_string(std::size_t index) const;
  bool get_bool(std::size_t index) const;
  std::optional<std::int64_t> get_optional_int(std::size_t index) const;
  std::optional<double> get_optional_double(std::size_t index) const;
  std::optional<std::string> get_optional_string(std::size_t index) const;
  std::optional<bool> get_optional_bool(std::size_t index) const;

  std::int64_t get_int(std::string_view name) const { return get_int(index_of(name)); }
  double get_double(std::string_view name) const { return get_double(index_of(name)); }
  std::string get_string(std::string_view name) const { return get_string(index_of(name)); }
  bool get_bool(std::string_view name) const { return get_bool(index_of(name)); }
  std::optional<std::int64_t> get_optional_int(std::string_view name) const {
    return get_optional_int(index_of(name));
  }
  std::optional<double> get_optional_double(std::string_view name) const {
    return get_optional_double(index_of(name));
  }
  std::optional<std::string> get_optional_string(std::string_view name) const {
    return get_optional_string(index_of(name));
  }
  std::optional<bool> get_optional_bool(std::string_view name) const {
    return get_optional_bool(index_of(name));
  }

 private:
  [[noreturn]] void mismatch(std::size_t index, std::string_view wanted) const;

  std::shared_ptr<const std::vector<std::string>> columns_;
  std::vector<Value> values_;
};

}  // namespace factoryops::db
