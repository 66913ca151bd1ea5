#include "db/factory_repository.hpp"

#include "core/errors.hpp"
#include "db/clock.hpp"

namespace factoryops::db {
namespace {

constexpr std::size_t kMaxNameChars = 255;

constexpr std::string_view kColumns = "id, name, timezone, created_at, updated_at";

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

Factory from_row(const Row& row) {
  return Factory{core::FactoryId(row.get_string(0)), row.get_string(1), row.get_string(2), row.get_int(3),
                 row.get_int(4)};
}

std::optional<int> retention_days(const Row& row, std::size_t index) {
  auto days = row.get_optional_int(index);
  if (!days) return std::nullopt;
  return static_cast<int>(*days);
}

}  // namespace

bool is_plausible_timezone(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
  if (name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
              c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  return true;
}

Factory FactoryRepository::create(const Factory& factory) {
  if (factory.name.find_first_not_of(" \t\r\n") == std::string::npos)
    throw core::Invalid("name", "must not be empty");
  if (utf8_length(factory.name) > kMaxNameChars) {
    throw core::Invalid("name", "must be at most " + std::to_string(kMaxNameChars) + " characters");
  }
  if (!is_plausible_timezone(factory.timezone)) {
    throw core::Invalid("timezone", "must be an IANA time zone name such as UTC or Europe/Berlin");
  }
  Factory stored = factory;
  stored.created_at_ms = stored.updated_at_ms = now_ms();
  auto conn = db_.acquire();
  try {
    conn->execute(
        "INSERT INTO factories (id, name, timezone, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        {stored.id.str(), stored.name, stored.timezone, stored.created_at_ms, stored.updated_at_ms});
  } catch (const core::Conflict&) {
    throw core::Conflict("factory '" + stored.id.str() + "' already exists");
  }
  return stored;
}

std::optional<Factory> FactoryRepository::find(const core::FactoryId& id) {
  auto conn = db_.acquire();
  auto row = conn->query_one("SELECT " + std::string(kColumns) + " FROM factories WHERE id = ?", {id.str()});
  if (!row) return std::nullopt;
  return from_row(*row);
}

std::vector<Factory> FactoryRepository::list() {
  auto conn = db_.acquire();
  std::vector<Factory> out;
  for (const auto& row : conn->query("SELECT " + std::string(kColumns) + " FROM factories ORDER BY id")) {
    out.push_back(from_row(row));
  }
  return out;
}

std::optional<RetentionOverride> FactoryRepository::retention(const core::FactoryId& id) {
  auto conn = db_.acquire();
  return retention(*conn, id);
}

std::optional<RetentionOverride> FactoryRepository::retention(Connection& conn, const core::FactoryId& id) {
  auto row = conn.query_one("SELECT raw_retention_days, rollup_retention_days FROM factories WHERE id = ?",
                            {id.str()});
  if (!row) return std::nullopt;
  return RetentionOverride{retention_days(*row, 0), retention_days(*row, 1)};
}

std::vector<std::pair<core::FactoryId, RetentionOverride>> FactoryRepository::list_retention() {
  auto conn = db_.acquire();
  std::vector<std::pair<core::FactoryId, RetentionOverride>> out;
  for (const auto& row :
       conn->query("SELECT id, raw_retention_days, rollup_retention_days FROM factories ORDER BY id")) {
    out.emplace_back(core::FactoryId(row.get_string(0)),
                     RetentionOverride{retention_days(row, 1), retention_days(row, 2)});
  }
  return out;
}

bool FactoryRepository::set_retention(Connection& conn, const core::FactoryId& id,
                                      const RetentionOverride& retention) {
  auto result = conn.execute(
      "UPDATE factories SET raw_retention_days = ?, rollup_retention_days = ?, updated_at = ? WHERE id = ?",
      {retention.raw_days ? Param(std::int64_t{*retention.raw_days}) : Param(nullptr),
       retention.rollup_days ? Param(std::int64_t{*retention.rollup_days}) : Param(nullptr), now_ms(),
       id.str()});
  return result.affected_rows > 0;
}

}  // namespace factoryops::db
