#include "rules/rule_repository.hpp"

#include <stdexcept>

#include "core/errors.hpp"

namespace factoryops::rules {
namespace {

constexpr std::string_view kColumns =
    "id, factory_id, definition, version, created_by, created_at, updated_at";

StoredRule rule_from_row(const db::Row& row) {
  StoredRule stored{core::FactoryId(row.get_string(1))};
  const std::int64_t id = row.get_int(0);
  try {
    // A stored schedule always names its zone, so the factory's is never consulted here.
    stored.rule = parse_rule(row.get_string(2), "UTC");
  } catch (const core::Invalid& e) {
    // Not the caller's input: a definition that no longer validates is a server fault, and
    // must not reach the client as a 4xx about its own request.
    throw std::runtime_error("stored rule " + std::to_string(id) + " is unreadable: " + e.what());
  }
  stored.rule.id = id;
  stored.version = row.get_int(3);
  stored.created_by = row.get_optional_int(4);
  stored.created_at_ms = row.get_int(5);
  stored.updated_at_ms = row.get_int(6);
  return stored;
}

// The definition column holds the body form without "id": the row's key is the one truth.
std::string definition_of(const Rule& rule) {
  Rule copy = rule;
  copy.id = 0;
  return serialize_rule(copy);
}

}  // namespace

std::int64_t RuleRepository::insert(const core::FactoryId& factory_id, db::Connection& conn,
                                    const StoredRule& stored) {
  const Rule& rule = stored.rule;
  auto result = conn.execute(
      "INSERT INTO rules (factory_id, name, severity, is_enabled, definition, version, created_by, "
      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)",
      {factory_id.str(), rule.name, severity_name(rule.severity), rule.enabled, definition_of(rule),
       stored.created_by, stored.created_at_ms, stored.updated_at_ms});
  return result.last_insert_id;
}

std::optional<StoredRule> RuleRepository::find(const core::FactoryId& factory_id, std::int64_t id) {
  auto conn = db_.acquire();
  return find(factory_id, *conn, id);
}

std::optional<StoredRule> RuleRepository::find(const core::FactoryId& factory_id, db::Connection& conn,
                                               std::int64_t id) {
  auto row = conn.query_one("SELECT " + std::string(kColumns) + " FROM rules WHERE factory_id = ? AND id = ?",
                            {factory_id.str(), id});
  if (!row) return std::nullopt;
  return rule_from_row(*row);
}

RulePage RuleRepository::list(const core::FactoryId& factory_id, std::int64_t limit, std::int64_t offset) {
  auto conn = db_.acquire();
  RulePage page;
  page.total =
      conn->query_one("SELECT COUNT(*) FROM rules WHERE factory_id = ?", {factory_id.str()})->get_int(0);
  for (const auto& row :
       conn->query("SELECT " + std::string(kColumns) +
                       " FROM rules WHERE factory_id = ? ORDER BY name, id LIMIT ? OFFSET ?",
                   {factory_id.str(), limit, offset})) {
    page.items.push_back(rule_from_row(row));
  }
  return page;
}

std::vector<StoredRule> RuleRepository::list_all(const core::FactoryId& factory_id) {
  auto conn = db_.acquire();
  std::vector<StoredRule> out;
  for (const auto& row :
       conn->query("SELECT " + std::string(kColumns) + " FROM rules WHERE factory_id = ? ORDER BY id",
                   {factory_id.str()})) {
    out.push_back(rule_from_row(row));
  }
  return out;
}

bool RuleRepository::update(const core::FactoryId& factory_id, db::Connection& conn, const Rule& rule,
                            std::int64_t updated_at_ms) {
  return conn.execute(
                 "UPDATE rules SET name = ?, severity = ?, is_enabled = ?, definition = ?, version = version "
                 "+ 1, "
                 "updated_at = ? WHERE factory_id = ? AND id = ?",
                 {rule.name, severity_name(rule.severity), rule.enabled, definition_of(rule), updated_at_ms,
                  factory_id.str(), rule.id})
             .affected_rows > 0;
}

bool RuleRepository::remove(const core::FactoryId& factory_id, db::Connection& conn, std::int64_t id) {
  return conn.execute("DELETE FROM rules WHERE factory_id = ? AND id = ?", {factory_id.str(), id})
             .affected_rows > 0;
}

}  // namespace factoryops::rules
