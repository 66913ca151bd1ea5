#include "db/audit_repository.hpp"

#include "core/errors.hpp"
#include "db/clock.hpp"

namespace factoryops::db {
namespace {

void check_label(std::string_view field, const std::string& value, std::size_t max) {
  if (value.empty()) throw core::Invalid(std::string(field), "must not be empty");
  if (value.size() > max)
    throw core::Invalid(std::string(field), "must be at most " + std::to_string(max) + " bytes");
}

}  // namespace

AuditRecord AuditRepository::record(const core::FactoryId& factory_id, const AuditEntry& entry) {
  auto conn = db_.acquire();
  return record(*conn, factory_id, entry);
}

AuditRecord AuditRepository::record(Connection& conn, const core::FactoryId& factory_id,
                                    const AuditEntry& entry) {
  check_label("action", entry.action, 64);
  check_label("resource_type", entry.resource_type, 64);
  if (entry.resource_id && entry.resource_id->size() > 255) {
    throw core::Invalid("resource_id", "must be at most 255 bytes");
  }
  AuditRecord rec{0, factory_id, entry, now_ms()};
  if (rec.entry.details_json.empty()) rec.entry.details_json = "{}";
  auto result = conn.execute(
      "INSERT INTO audit_log (factory_id, user_id, action, resource_type, resource_id, details, ip, "
      "request_id, "
      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {factory_id.str(), entry.user_id, entry.action, entry.resource_type, entry.resource_id,
       rec.entry.details_json, entry.ip, entry.request_id, rec.created_at_ms});
  rec.id = result.last_insert_id;
  return rec;
}

std::vector<AuditRecord> AuditRepository::list(const core::FactoryId& factory_id, Paging paging) {
  if (paging.limit < 1 || paging.limit > Paging::kMaxLimit) {
    throw core::Invalid("limit", "must be between 1 and " + std::to_string(Paging::kMaxLimit));
  }
  if (paging.offset < 0) throw core::Invalid("offset", "must not be negative");
  auto conn = db_.acquire();
  auto rows = conn->query(
      "SELECT id, user_id, action, resource_type, resource_id, details, ip, request_id, created_at "
      "FROM audit_log WHERE factory_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
      {factory_id.str(), paging.limit, paging.offset});
  std::vector<AuditRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    AuditEntry e{row.get_optional_int(1),    row.get_string(2), row.get_string(3),
                 row.get_optional_string(4), row.get_string(5), row.get_optional_string(6),
                 row.get_optional_string(7)};
    out.push_back(AuditRecord{row.get_int(0), factory_id, std::move(e), row.get_int(8)});
  }
  return out;
}

std::int64_t AuditRepository::count(const core::FactoryId& factory_id) {
  auto conn = db_.acquire();
  return conn->query_one("SELECT COUNT(*) FROM audit_log WHERE factory_id = ?", {factory_id.str()})
      ->get_int(0);
}

AuditPage AuditRepository::search(const core::FactoryId& factory_id, const AuditFilter& filter,
                                  Paging paging) {
  if (paging.limit < 1 || paging.limit > Paging::kMaxLimit) {
    throw core::Invalid("limit", "must be between 1 and " + std::to_string(Paging::kMaxLimit));
  }
  if (paging.offset < 0) throw core::Invalid("offset", "must not be negative");
  std::string where = " WHERE a.factory_id = ?";
  std::vector<Value> params{factory_id.str()};
  if (filter.action) {
    where += " AND a.action = ?";
    params.emplace_back(*filter.action);
  }
  if (filter.user_id) {
    where += " AND a.user_id = ?";
    params.emplace_back(*filter.user_id);
  }
  if (filter.from_ms) {
    where += " AND a.created_at >= ?";
    params.emplace_back(*filter.from_ms);
  }
  if (filter.to_ms) {
    where += " AND a.created_at <= ?";
    params.emplace_back(*filter.to_ms);
  }
  auto conn = db_.acquire();
  AuditPage page;
  page.total = conn->query_one("SELECT COUNT(*) FROM audit_log a" + where, params)->get_int(0);
  params.emplace_back(paging.limit);
  params.emplace_back(paging.offset);
  auto rows = conn->query(
      "SELECT a.id, a.user_id, a.action, a.resource_type, a.resource_id, a.details, a.ip, a.request_id, "
      "a.created_at, u.email FROM audit_log a LEFT JOIN users u ON u.factory_id = a.factory_id AND u.id = "
      "a.user_id" +
          where + " ORDER BY a.created_at DESC, a.id DESC LIMIT ? OFFSET ?",
      params);
  for (const auto& row : rows) {
    AuditEntry e{row.get_optional_int(1),    row.get_string(2), row.get_string(3),
                 row.get_optional_string(4), row.get_string(5), row.get_optional_string(6),
                 row.get_optional_string(7)};
    page.items.push_back(AuditListItem{AuditRecord{row.get_int(0), factory_id, std::move(e), row.get_int(8)},
                                       row.get_optional_string(9)});
  }
  return page;
}

}  // namespace factoryops::db
